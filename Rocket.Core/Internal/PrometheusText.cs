using System.Globalization;
using System.Text;

namespace RocketOwin.Internal;

/// <summary>
/// The Meter in the Prometheus text exposition format 0.0.4: each instrument becomes one metric family, its name with
/// dots as underscores, the unit as a suffix (<c>By</c> -> <c>_bytes</c>, <c>s</c> -> <c>_seconds</c>), counters ending
/// in <c>_total</c>, tags as labels. Generic over the instruments, so one added to <see cref="ServerMetrics"/> appears here as is.
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(StatusReport report)
    {
        var text = new StringBuilder(4096);
        foreach (var instrument in report.Instruments)
        {
            var first = instrument.First();
            var name = Name(first);
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(first.Instrument.Description ?? string.Empty)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(first.IsCounter ? "counter" : "gauge").Append('\n');
            foreach (var sample in instrument)
            {
                text.Append(name);
                if (sample.Tags.Length > 0)
                {
                    text.Append('{');
                    for (var i = 0; i < sample.Tags.Length; i++)
                    {
                        var value = Convert.ToString(sample.Tags[i].Value, CultureInfo.InvariantCulture) ?? string.Empty;
                        text.Append(i == 0 ? string.Empty : ",").Append(Sanitize(sample.Tags[i].Key)).Append("=\"").Append(EscapeLabel(value)).Append('"');
                    }

                    text.Append('}');
                }

                text.Append(' ').Append(sample.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>rocket.response.body.size (By, counter) -> rocket_response_body_size_bytes_total.</summary>
    internal static string Name(MetricSample sample)
    {
        var name = Sanitize(sample.Instrument.Name);
        name += sample.Instrument.Unit switch
        {
            "By" => "_bytes",
            "s" => "_seconds",
            _ => string.Empty,
        };
        return sample.IsCounter ? name + "_total" : name;
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_' || chars[i] == ':'))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static string EscapeHelp(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabel(string text) => EscapeHelp(text).Replace("\"", "\\\"", StringComparison.Ordinal);
}
