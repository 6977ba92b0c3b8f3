using System.Buffers.Binary;
using System.IO.Compression;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>
/// Just enough of PNG to know a file is a whole image: the signature, the header (size, bit
/// depth, colour type), every chunk's CRC, and the image data inflated to exactly the bytes
/// its size needs. Also the colours of the decoded pixels, so a test can tell a picture from a
/// blank page. Non-interlaced 8-bit RGB/RGBA only (what rsvg-convert writes).
/// </summary>
internal sealed record PngImage(int Width, int Height, int Channels, byte[] Pixels)
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static PngImage Decode(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG: bad signature");
        int pos = 8, width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        bool end = false;
        while (!end)
        {
            if (pos + 12 > file.Length) throw new InvalidDataException("PNG truncated: chunk header past the end");
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(file, pos + 4, 4);
            if (length < 0 || pos + 12 + length > file.Length) throw new InvalidDataException($"PNG truncated in chunk {type}");
            var data = file.AsSpan(pos + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(pos + 8 + length));
            if (crc != Crc32(file.AsSpan(pos + 4, length + 4)))
                throw new InvalidDataException($"PNG chunk {type} has a bad CRC");
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    if (data[8] != 8 || data[12] != 0) throw new InvalidDataException("only 8-bit non-interlaced PNGs are decoded here");
                    channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"colour type {data[9]} not decoded here") };
                    break;
                case "IDAT": idat.Write(data); break;
                case "IEND": end = true; break;
            }
            pos += 12 + length;
        }
        if (width <= 0 || height <= 0) throw new InvalidDataException("PNG has no IHDR or an empty size");

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        int stride = width * channels;
        var raw = inflated.ToArray();
        if (raw.Length != (stride + 1) * height) throw new InvalidDataException($"PNG data inflates to {raw.Length} bytes, not {(stride + 1) * height}");
        return new PngImage(width, height, channels, Unfilter(raw, stride, height, channels));
    }

    private static byte[] Unfilter(byte[] raw, int stride, int height, int bpp)
    {
        var pixels = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * (stride + 1)];
            for (int x = 0; x < stride; x++)
            {
                int a = x >= bpp ? pixels[y * stride + x - bpp] : 0;
                int b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
                int c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp] : 0;
                int value = raw[y * (stride + 1) + 1 + x];
                pixels[y * stride + x] = (byte)(filter switch
                {
                    0 => value,
                    1 => value + a,
                    2 => value + b,
                    3 => value + (a + b) / 2,
                    4 => value + Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG row {y} has filter type {filter}"),
                });
            }
        }
        return pixels;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The CRC-32 PNG chunks carry (ISO 3309, as zlib's crc32).</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>The RGB colour of a pixel.</summary>
    public (byte R, byte G, byte B) At(int x, int y)
    {
        int i = (y * Width + x) * Channels;
        return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    /// <summary>How many pixels are close to a colour (each channel within 40).</summary>
    public int CountNear(byte r, byte g, byte b)
    {
        int n = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                var p = At(x, y);
                if (Math.Abs(p.R - r) <= 40 && Math.Abs(p.G - g) <= 40 && Math.Abs(p.B - b) <= 40) n++;
            }
        return n;
    }
}
