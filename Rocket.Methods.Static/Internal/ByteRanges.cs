namespace RocketOwin.Methods.Static.Internal;

/// <summary>What a Range header asks of a file of a given length (RFC 9110 §14.2).</summary>
internal enum RangeOutcome
{
    /// <summary>No Range, an unknown unit, bad syntax or too many/overlapping ranges: answer 200 with the whole file.</summary>
    Whole,

    /// <summary>One satisfiable range: 206 with Content-Range.</summary>
    Single,

    /// <summary>Several satisfiable, non-overlapping ranges: 206 multipart/byteranges.</summary>
    Multiple,

    /// <summary>No range overlaps the file: 416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

/// <summary>Parses <c>Range: bytes=...</c> into (start, length) pairs for a file of known length.</summary>
internal static class ByteRanges
{
    /// <summary>Parses <paramref name="header"/>; the ranges found are returned in request order, clipped to the file.</summary>
    public static RangeOutcome Parse(string header, long length, int maxRanges, out List<(long Start, long Length)> ranges)
    {
        ranges = [];
        var text = header.AsSpan().Trim();
        var eq = text.IndexOf('=');
        if (eq < 0 || !text[..eq].Trim().Equals("bytes", StringComparison.OrdinalIgnoreCase))
        {
            return RangeOutcome.Whole; // §14.2: an unknown range unit is ignored
        }

        var anyValid = false;
        foreach (var part in text[(eq + 1)..].Split(','))
        {
            var spec = text[(eq + 1)..][part].Trim();
            if (spec.IsEmpty)
            {
                continue;
            }

            var dash = spec.IndexOf('-');
            if (dash < 0)
            {
                return RangeOutcome.Whole; // invalid syntax: ignore the whole field
            }

            var first = spec[..dash].Trim();
            var last = spec[(dash + 1)..].Trim();
            long start, end;
            if (first.IsEmpty)
            {
                // suffix-range: the last N bytes
                if (!TryDigits(last, out var suffix))
                {
                    return RangeOutcome.Whole;
                }

                anyValid = true;
                if (suffix == 0 || length == 0)
                {
                    continue;
                }

                start = Math.Max(0, length - suffix);
                end = length - 1;
            }
            else
            {
                end = long.MaxValue;
                if (!TryDigits(first, out start) || (!last.IsEmpty && (!TryDigits(last, out end) || end < start)))
                {
                    return RangeOutcome.Whole;
                }

                anyValid = true;
                if (start >= length)
                {
                    continue;
                }

                end = Math.Min(end, length - 1);
            }

            ranges.Add((start, end - start + 1));
            if (ranges.Count > maxRanges)
            {
                return RangeOutcome.Whole;
            }
        }

        if (!anyValid)
        {
            return RangeOutcome.Whole;
        }

        if (ranges.Count == 0)
        {
            return RangeOutcome.Unsatisfiable;
        }

        if (ranges.Count == 1)
        {
            return RangeOutcome.Single;
        }

        // §14.3 lets a server ignore overlapping ranges (a classic amplification): the whole file instead.
        var sorted = ranges.OrderBy(r => r.Start).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Start < sorted[i - 1].Start + sorted[i - 1].Length)
            {
                return RangeOutcome.Whole;
            }
        }

        return RangeOutcome.Multiple;
    }

    private static bool TryDigits(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return true;
    }
}
