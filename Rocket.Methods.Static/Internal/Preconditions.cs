namespace RocketOwin.Methods.Static.Internal;

/// <summary>Conditional requests (RFC 9110 §13): which validators match, evaluated in the order §13.2.2 prescribes.</summary>
internal static class Preconditions
{
    /// <summary>Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since for a GET or HEAD.</summary>
    /// <returns>200 to go on, 304 Not Modified, or 412 Precondition Failed.</returns>
    public static int Evaluate(RequestHeaders headers, FileEntry entry)
    {
        // §13.2.2 step 1-2: If-Match, else If-Unmodified-Since.
        if (headers.GetCombined("If-Match") is { } ifMatch)
        {
            if (!MatchesAny(ifMatch, entry.ETag, weak: false))
            {
                return 412;
            }
        }
        else if (headers.TryGetValue("If-Unmodified-Since", out var ius) && HttpDate.TryParse(ius, out var unmodifiedSince)
                 && entry.LastModifiedValue > unmodifiedSince)
        {
            return 412;
        }

        // Step 3-4: If-None-Match (weak comparison), and only without it If-Modified-Since.
        if (headers.GetCombined("If-None-Match") is { } ifNoneMatch)
        {
            return MatchesAny(ifNoneMatch, entry.ETag, weak: true) ? 304 : 200;
        }

        if (headers.TryGetValue("If-Modified-Since", out var ims)
            && (ims == entry.LastModified || (HttpDate.TryParse(ims, out var since) && entry.LastModifiedValue <= since)))
        {
            return 304;
        }

        return 200;
    }

    /// <summary>If-Range (RFC 9110 §13.1.5): true when the Range may be honoured (no If-Range, or it still matches).</summary>
    public static bool IfRangeAllows(RequestHeaders headers, FileEntry entry)
    {
        if (!headers.TryGetValue("If-Range", out var value))
        {
            return true;
        }

        var text = value.AsSpan().Trim();
        if (text.StartsWith('"') || text.StartsWith("W/", StringComparison.Ordinal))
        {
            // Strong comparison: a weak tag never matches.
            return text.SequenceEqual(entry.ETag);
        }

        // A date must match exactly; Last-Modified is only as fine as a second, so anything else is unsafe.
        return HttpDate.TryParse(text, out var date) && date == entry.LastModifiedValue;
    }

    /// <summary>True when the comma-separated entity-tag list (or <c>*</c>) matches <paramref name="etag"/>.</summary>
    public static bool MatchesAny(string list, string etag, bool weak)
    {
        var rest = list.AsSpan();
        while (!rest.IsEmpty)
        {
            rest = rest.TrimStart(" \t,");
            if (rest.IsEmpty)
            {
                break;
            }

            if (rest[0] == '*')
            {
                return true;
            }

            var isWeak = rest.StartsWith("W/", StringComparison.Ordinal);
            var tagStart = isWeak ? 2 : 0;
            if (tagStart >= rest.Length || rest[tagStart] != '"')
            {
                return false; // not an entity-tag list: nothing matches
            }

            var close = rest[(tagStart + 1)..].IndexOf('"');
            if (close < 0)
            {
                return false;
            }

            var tag = rest.Slice(tagStart, close + 2);
            if ((weak || !isWeak) && tag.SequenceEqual(etag))
            {
                return true;
            }

            rest = rest[(tagStart + close + 2)..];
        }

        return false;
    }
}
