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
        => string.Join(',', values.Select(v => v.Contains(',', StringComparison.Ordinal) && !IsQuoted(v) ? "\"" + v + "\"" : v));

    public static List<string> SplitCommas(IEnumerable<string> values)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        foreach (var value in values)
        {
            var quoted = false;
            foreach (var c in value)
            {
                if (c == '"')
                {
                    quoted = !quoted;
                }

                if (c == ',' && !quoted)
                {
                    AddTrimmed(result, current);
                    continue;
                }

                current.Append(c);
            }

            AddTrimmed(result, current);
        }

        return result;
    }

    private static bool IsQuoted(string value) => value.Length >= 2 && value[0] == '"' && value[^1] == '"';

    private static void AddTrimmed(List<string> result, StringBuilder current)
    {
        var text = current.ToString().Trim();
        current.Clear();
        if (text.Length > 0)
        {
            result.Add(text);
        }
    }
}
