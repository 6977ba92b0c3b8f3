using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>
/// The model and one implementation built once over a platform, with their starting states
/// saved. <see cref="Start"/> restores both and hands out a session over them, so an engine that
/// runs many short cases on one platform (a fuzzer, above all) pays for a restore — O(1) for the
/// model, a copy of the initial state for the implementation — instead of building both systems
/// for every input. One session at a time: a new start ends the previous one.
/// </summary>
public sealed class PreparedSystems
{
    private readonly Func<PlatformConfig, ISystemUnderTest> _factory;
    private readonly ModelSystem _model;
    private readonly ModelSnapshot _modelStart;
    private ISystemUnderTest? _impl;
    private SystemSnapshot? _implStart;
    /// <summary>The implementation's starting state, judged clean once (null: judge everything).</summary>
    private StateBaseline? _baseline;

    public PreparedSystems(PlatformConfig platform, Func<PlatformConfig, ISystemUnderTest> implementation, ModelOptions? modelOptions = null)
    {
        Platform = platform;
        _factory = implementation;
        ModelOptions = modelOptions ?? new ModelOptions();
        _model = new ModelSystem(platform, ModelOptions);
        _modelStart = _model.Snapshot();
    }

    public PlatformConfig Platform { get; }
    public ModelOptions ModelOptions { get; }

    /// <summary>Both systems back at their starting states, in a fresh session.</summary>
    public RefinementSession Start(RefinementOptions? options = null)
    {
        options ??= new RefinementOptions();
        if (!Equals(options.Model, ModelOptions))
            throw new ArgumentException("the session's model options differ from the ones these systems were prepared with", nameof(options));
        _model.Restore(_modelStart);
        var impl = RestoredImplementation(out var constructionError);
        return constructionError is null
            ? new RefinementSession(Platform, _model, impl!, options) { Baseline = _baseline }
            : RefinementSession.WithBrokenImplementation(Platform, _model, options, constructionError);
    }

    /// <summary>The implementation at its starting state: restored when it can be, built again
    /// when it cannot (no snapshot support, or a restore that throws after a crash).</summary>
    private ISystemUnderTest? RestoredImplementation(out Exception? constructionError)
    {
        constructionError = null;
        if (_impl is not null && _implStart is not null)
        {
            try
            {
                _impl.Restore(_implStart);
                return _impl;
            }
            catch (Exception)
            {
                _impl = null; // rebuilt below
            }
        }
        try
        {
            _impl = _factory(Platform);
        }
        catch (Exception e)
        {
            constructionError = e;
            return null;
        }
        try
        {
            _implStart = _impl.Snapshot();
            _baseline = StateBaseline.Verified(_impl.ExportState());
        }
        catch (Exception)
        {
            _implStart = null; // built afresh each time
            _baseline = null;
            var fresh = _impl;
            _impl = null;
            return fresh;
        }
        return _impl;
    }
}
