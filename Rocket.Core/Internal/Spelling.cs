namespace RocketOwin.Internal;

/// <summary>"Did you mean" for names a user typed: the closest known name within a few edits, ignoring case and <c>-</c>/<c>_</c>.</summary>
internal static class Spelling
{
    /// <summary>The candidate closest to <paramref name="typed"/>, or null when none is close enough to be a likely typo.</summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        var wanted = Normalize(typed);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(wanted, Normalize(candidate));
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        // A third of the name (at least one edit, at most four): "display_idx" finds display_index, "root" finds nothing in "upstream".
        var allowed = Math.Clamp(wanted.Length / 3, 1, 4);
        if (bestDistance <= allowed)
        {
            return best;
        }

        // A shortened name: "MaxBodySize" is MaxRequestBodySize with a word left out.
        return wanted.Length < 4 ? null : candidates
            .Where(c => IsSubsequence(wanted, Normalize(c)))
            .OrderBy(c => c.Length)
            .FirstOrDefault();
    }

    private static bool IsSubsequence(string shorter, string longer)
    {
        var i = 0;
        foreach (var c in longer)
        {
            if (i < shorter.Length && shorter[i] == c)
            {
                i++;
            }
        }

        return i == shorter.Length;
    }

    /// <summary>"; did you mean X?" or an empty string.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> candidates)
        => Closest(typed, candidates) is { } close ? $"; did you mean {close}?" : string.Empty;

    private static string Normalize(string name) => name.Replace('-', '_').ToLowerInvariant();

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
