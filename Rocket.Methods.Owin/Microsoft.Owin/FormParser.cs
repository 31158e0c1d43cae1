namespace Microsoft.Owin;

/// <summary>Parses <c>a=1&amp;b=2</c> (query strings and url-encoded forms): '+' is a space, then percent-decoding; '&amp;' and ';' separate pairs.</summary>
internal static class FormParser
{
    public static Dictionary<string, string[]> Parse(string text)
    {
        var lists = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in text.Split(['&', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? string.Empty : Decode(pair[(eq + 1)..]);
            if (!lists.TryGetValue(name, out var list))
            {
                lists[name] = list = [];
            }

            list.Add(value);
        }

        var result = new Dictionary<string, string[]>(lists.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, list) in lists)
        {
            result[name] = [.. list];
        }

        return result;
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
