using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace RocketOwin.Internal;

/// <summary>
/// The status report as an HTML page for people (plain HTML and CSS, no script: readable in any browser, curl or lynx;
/// it refreshes itself every 10 s with a meta tag) and as JSON for scripts. Figures carry ids (<c>threads-busy</c>,
/// <c>requests-2xx</c>, ...) so tools and tests can find them.
/// </summary>
internal static class StatusPage
{
    public static string Html(StatusReport r)
    {
        var html = new StringBuilder(8192);
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Rocket.Owin status</title>
            <style>
            body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
            h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
            p.sub{color:#555;margin:0 0 1em}
            table{border-collapse:collapse;margin-bottom:.5em}
            th,td{border:1px solid #ccc;padding:.25em .7em;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            th{background:#f2f2f2}
            .grid{display:flex;flex-wrap:wrap;gap:0 2em}
            </style></head><body>
            """);
        html.Append("<h1>Rocket.Owin status</h1><p class=\"sub\">method <b id=\"method\">").Append(Encode(r.Method))
            .Append("</b> · version <b id=\"version\">").Append(Encode(r.Version))
            .Append("</b> · up <b id=\"uptime\">").Append(Encode(Duration(r.Uptime))).Append("</b></p>\n");

        html.Append("<div class=\"grid\"><div><h2>Threads</h2><table>");
        Row(html, "threads-busy", "busy", r.Value("rocket.threads", "busy"));
        Row(html, "threads-idle", "idle", r.Value("rocket.threads", "idle"));
        var max = r.Value("rocket.threads.max");
        html.Append("<tr><th>max</th><td class=\"n\" id=\"threads-max\">").Append(max == 0 ? "no limit" : Number(max)).Append("</td></tr>");
        Row(html, "queue-length", "active queue", r.Value("rocket.queue.length"));
        html.Append("</table></div>\n<div><h2>Connections</h2><table>");
        Row(html, "connections-active", "active", r.Value("rocket.connections", "active"));
        Row(html, "connections-idle", "idle (in the monitor)", r.Value("rocket.connections", "idle"));
        html.Append("</table></div>\n<div><h2>Traffic</h2><table>");
        html.Append("<tr><th>requests/s (last 10 s)</th><td class=\"n\" id=\"requests-per-second\">")
            .Append(r.RequestsPerSecond.ToString("0.0", CultureInfo.InvariantCulture)).Append("</td></tr>");
        Row(html, "requests-total", "requests answered", r.Value("rocket.requests"));
        Row(html, "requests-active", "requests in progress", r.Value("rocket.requests.active"));
        Row(html, "bytes-sent", "response body bytes", r.Value("rocket.response.body.size"));
        html.Append("</table></div>\n<div><h2>Status classes</h2><table>");
        foreach (var s in r.Of("rocket.requests"))
        {
            Row(html, "requests-" + s.TagText, s.TagText, s.Value);
        }

        html.Append("</table></div></div>\n<h2>Rejections by reason</h2><table><tr><th>reason</th><th>requests</th></tr>");
        foreach (var s in r.Of("rocket.rejections"))
        {
            Row(html, "rejections-" + s.TagText, s.TagText, s.Value);
        }

        html.Append("</table>\n<h2>Every instrument of the Rocket meter</h2><table><tr><th>instrument</th><th>tags</th><th>value</th><th>unit</th><th>meaning</th></tr>");
        foreach (var s in r.Samples)
        {
            html.Append("<tr><td>").Append(Encode(s.Instrument.Name)).Append("</td><td>")
                .Append(Encode(string.Join(", ", s.Tags.Select(t => $"{t.Key}={t.Value}")))).Append("</td><td class=\"n\">")
                .Append(Number(s.Value)).Append("</td><td>").Append(Encode(s.Instrument.Unit ?? string.Empty)).Append("</td><td>")
                .Append(Encode(s.Instrument.Description ?? string.Empty)).Append("</td></tr>\n");
        }

        html.Append("</table><p class=\"sub\">Also as <a href=\"json\">JSON</a> and <a href=\"metrics\">Prometheus metrics</a>.</p></body></html>\n");
        return html.ToString();
    }

    /// <summary><c>{ "method", "version", "uptimeSeconds", "requestsPerSecond", "metrics": { "rocket.threads": { "busy": 1, ... }, "rocket.queue.length": 0, ... } }</c>.</summary>
    public static byte[] Json(StatusReport r)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("method", r.Method);
            json.WriteString("version", r.Version);
            json.WriteNumber("uptimeSeconds", Math.Round(r.Uptime.TotalSeconds, 3));
            json.WriteNumber("requestsPerSecond", Math.Round(r.RequestsPerSecond, 3));
            json.WriteStartObject("metrics");
            foreach (var instrument in r.Instruments)
            {
                var samples = instrument.ToList();
                if (samples is [{ Tags.Length: 0 } only])
                {
                    json.WriteNumber(instrument.Key, only.Value);
                    continue;
                }

                json.WriteStartObject(instrument.Key);
                foreach (var s in samples)
                {
                    json.WriteNumber(s.TagText, s.Value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static void Row(StringBuilder html, string id, string label, double value)
        => html.Append("<tr><th>").Append(Encode(label)).Append("</th><td class=\"n\" id=\"").Append(Encode(id)).Append("\">").Append(Number(value)).Append("</td></tr>");

    private static string Number(double value)
        => value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan t)
        => t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h {t.Minutes}m" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes}m {t.Seconds}s" : $"{(int)t.TotalMinutes}m {t.Seconds}s";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
