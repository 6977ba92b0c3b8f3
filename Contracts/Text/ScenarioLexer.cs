using System.Globalization;
using System.Text;

namespace DmaVerify.Contracts;

internal enum TokenKind
{
    /// <summary>A bare word: a verb, a flag, a positional value.</summary>
    Word,
    /// <summary><c>key=value</c>; the value may be a quoted string.</summary>
    Pair,
    /// <summary>A quoted string on its own (the message of a failed outcome).</summary>
    String,
}

/// <summary>One token of a scenario line. Columns are 1-based; <see cref="EndColumn"/> is the
/// column just after the token.</summary>
internal sealed record Token(TokenKind Kind, string Text, int Column, int EndColumn)
{
    /// <summary>For <see cref="TokenKind.Pair"/>: the value (unescaped when quoted).</summary>
    public string Value { get; init; } = "";
    public int ValueColumn { get; init; }
    /// <summary>The value (Pair) or the token (String) was written as a quoted string.</summary>
    public bool Quoted { get; init; }
}

/// <summary>
/// Splits one line of scenario text into tokens. Blanks are spaces and tabs. A '#' that starts a
/// token starts a comment (inside a token, as in <c>handle=#2</c>, it is part of the token).
/// Quoted strings may stand alone or follow '=' directly, and must be followed by a blank or the
/// end of the line. Never throws; a malformed line yields an error with its column.
/// </summary>
internal static class ScenarioLexer
{
    public readonly record struct LexError(int Column, string Message);

    /// <summary>Tokenizes <paramref name="line"/> from index <paramref name="start"/>.
    /// <paramref name="commentAt"/> is the index of the '#' that starts a comment, or -1.</summary>
    public static bool Tokenize(string line, int start, List<Token> tokens, out int commentAt, out LexError error)
    {
        commentAt = -1;
        error = default;
        int i = start;
        while (i < line.Length)
        {
            char c = line[i];
            if (IsBlank(c)) { i++; continue; }
            if (c == '#') { commentAt = i; return true; }

            int begin = i;
            if (c == '"')
            {
                if (!ReadQuoted(line, ref i, out string text, out error)) return false;
                if (!AtTokenEnd(line, i, out error)) return false;
                tokens.Add(new Token(TokenKind.String, text, begin + 1, i + 1) { Quoted = true });
                continue;
            }

            int eq = -1;
            bool quotedValue = false;
            string value = "";
            while (i < line.Length && !IsBlank(line[i]))
            {
                char d = line[i];
                if (d == '=' && eq < 0)
                {
                    if (i == begin)
                    {
                        error = new(i + 1, "expected a key before '='");
                        return false;
                    }
                    eq = i++;
                    if (i < line.Length && line[i] == '"')
                    {
                        if (!ReadQuoted(line, ref i, out value, out error)) return false;
                        if (!AtTokenEnd(line, i, out error)) return false;
                        quotedValue = true;
                        break;
                    }
                    continue;
                }
                if (d == '"')
                {
                    error = new(i + 1, "unexpected '\"': a quoted string must stand alone or follow '=' directly");
                    return false;
                }
                i++;
            }

            if (eq < 0)
            {
                tokens.Add(new Token(TokenKind.Word, line[begin..i], begin + 1, i + 1));
            }
            else
            {
                tokens.Add(new Token(TokenKind.Pair, line[begin..eq], begin + 1, i + 1)
                {
                    Value = quotedValue ? value : line[(eq + 1)..i],
                    ValueColumn = eq + 2,
                    Quoted = quotedValue,
                });
            }
        }
        return true;
    }

    private static bool IsBlank(char c) => c is ' ' or '\t';

    private static bool AtTokenEnd(string line, int i, out LexError error)
    {
        error = default;
        if (i >= line.Length || IsBlank(line[i])) return true;
        error = new(i + 1, "expected a blank after the closing '\"'");
        return false;
    }

    /// <summary>Reads a quoted string starting at the opening quote; leaves <paramref name="i"/>
    /// just after the closing quote.</summary>
    private static bool ReadQuoted(string line, ref int i, out string text, out LexError error)
    {
        int open = i++;
        var sb = new StringBuilder();
        error = default;
        text = "";
        while (i < line.Length)
        {
            char c = line[i];
            if (c == '"')
            {
                i++;
                text = sb.ToString();
                return true;
            }
            if (c != '\\')
            {
                sb.Append(c);
                i++;
                continue;
            }
            if (i + 1 >= line.Length) break;
            char e = line[i + 1];
            switch (e)
            {
                case '\\': sb.Append('\\'); i += 2; break;
                case '"': sb.Append('"'); i += 2; break;
                case 'n': sb.Append('\n'); i += 2; break;
                case 'r': sb.Append('\r'); i += 2; break;
                case 't': sb.Append('\t'); i += 2; break;
                case 'u':
                    if (i + 6 <= line.Length &&
                        ushort.TryParse(line.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort code))
                    {
                        sb.Append((char)code);
                        i += 6;
                        break;
                    }
                    error = new(i + 1, "bad escape: \\u needs exactly four hex digits");
                    return false;
                default:
                    error = new(i + 1, $"unknown escape '\\{e}'; expected \\\\ \\\" \\n \\r \\t or \\uXXXX");
                    return false;
            }
        }
        error = new(open + 1, "unterminated string: expected a closing '\"'");
        return false;
    }
}
