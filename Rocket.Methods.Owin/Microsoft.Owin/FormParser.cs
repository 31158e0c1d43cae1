namespace Microsoft.Owin;

/// <summary>
/// Parses <c>a=1&amp;b=2</c> the way Katana's helpers did, for query strings, url-encoded forms and Cookie headers:
/// a pair without '=' is dropped, leading whitespace of a name is skipped, the first of several '=' splits.
/// </summary>
internal static class FormParser
{
    private static readonly char[] QueryDelimiters = ['&', ';'];
    private static readonly char[] FormDelimiters = ['&'];
    private static readonly char[] CookieDelimiters = [';'];

    /// <summary>A query string: '&amp;' and ';' separate pairs, '+' is a space, names and values percent-decoded.</summary>
    public static Dictionary<string, string[]> ParseQuery(string text) => Collect(text, QueryDelimiters);

    /// <summary>An application/x-www-form-urlencoded body: '&amp;' separates pairs, '+' is a space, names and values percent-decoded.</summary>
    public static Dictionary<string, string[]> ParseForm(string text) => Collect(text, FormDelimiters);

    /// <summary>
    /// Cookie header text (RFC 6265 §4.2.1 <c>cookie-string</c>): ';' separates pairs, only values are
    /// percent-decoded ('+' stays), the first of a repeated name wins.
    /// </summary>
    public static void ParseCookies(string text, IDictionary<string, string> into)
    {
        Parse(text, CookieDelimiters, decode: false, (name, value) =>
        {
            into.TryAdd(name, Uri.UnescapeDataString(value));
        });
    }

    private static Dictionary<string, string[]> Collect(string text, char[] delimiters)
    {
        var lists = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        Parse(text, delimiters, decode: true, (name, value) =>
        {
            if (!lists.TryGetValue(name, out var list))
            {
                lists[name] = list = new List<string>(1);
            }

            list.Add(value);
        });

        var result = new Dictionary<string, string[]>(lists.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, list) in lists)
        {
            result[name] = [.. list];
        }

        return result;
    }

    private static void Parse(string text, char[] delimiters, bool decode, Action<string, string> add)
    {
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOfAny(delimiters, start);
            if (end < 0)
            {
                end = text.Length;
            }

            var eq = text.IndexOf('=', start, end - start);
            if (eq >= 0)
            {
                var nameStart = start;
                while (nameStart < eq && char.IsWhiteSpace(text[nameStart]))
                {
                    nameStart++;
                }

                var name = text[nameStart..eq];
                var value = text[(eq + 1)..end];
                add(decode ? Decode(name) : name, decode ? Decode(value) : value);
            }

            start = end + 1;
        }
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
