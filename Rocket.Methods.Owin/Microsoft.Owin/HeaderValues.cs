using System.Text;

namespace Microsoft.Owin;

/// <summary>Joining and splitting of comma-separated header values (RFC 9110 §5.6.1), as Katana's helpers did.</summary>
internal static class HeaderValues
{
    public static string? Join(string[]? values) => values switch
    {
        null => null,
        [var single] => single,
        _ => string.Join(',', values),
    };

    public static string JoinQuoted(string[] values)
        => string.Join(',', values.Select(v => v is not null && v.Contains(',', StringComparison.Ordinal) && !IsQuoted(v) ? "\"" + v + "\"" : v));

    /// <summary>Splits at commas outside quoted strings, trimming each item and dropping empty ones.</summary>
    /// <param name="values">The header's values (null entries are skipped).</param>
    /// <param name="unquote">Remove the quotes around an item that is one quoted string (Katana's GetCommaSeparatedValues).</param>
    public static List<string> SplitCommas(IEnumerable<string?> values, bool unquote = false)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            var quoted = false;
            foreach (var c in value)
            {
                if (c == '"')
                {
                    quoted = !quoted;
                }

                if (c == ',' && !quoted)
                {
                    AddTrimmed(result, current, unquote);
                    continue;
                }

                current.Append(c);
            }

            AddTrimmed(result, current, unquote);
        }

        return result;
    }

    private static bool IsQuoted(string value) => value.Length >= 2 && value[0] == '"' && value[^1] == '"';

    private static void AddTrimmed(List<string> result, StringBuilder current, bool unquote)
    {
        var text = current.ToString().Trim();
        current.Clear();
        if (text.Length > 0)
        {
            result.Add(unquote && IsQuoted(text) ? text[1..^1] : text);
        }
    }
}
