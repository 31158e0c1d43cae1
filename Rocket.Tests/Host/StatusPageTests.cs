using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;
using RocketOwin.Tests.Wire;

namespace RocketOwin.Tests.Host;

/// <summary>
/// rocket --status: a known load, then the status page checked in headless Chromium (without JavaScript, screenshot kept
/// in artifacts/status-page.png), /json, and /metrics through a Prometheus text-format parser.
/// </summary>
[TestFixture]
public sealed partial class StatusPageTests
{
    private const int Served = 30;
    private const int KeptIdle = 2;
    private const int WithoutHost = 3;
    private const int BadContentLength = 2;
    private const int TooLarge = 1;

    [Test]
    public void StatusPageJsonAndMetricsShowAKnownLoad()
    {
        var chromium = HeadlessChromium.Require();
        using var rocket = RocketProcess.Start($"--plugins \"{TestPlugins.SampleFolder}\" --method health --bind 127.0.0.1:0 --status 127.0.0.1:0 --min-threads 2 --max-threads 6 --limit MaxRequestBodySize=100");
        var port = rocket.WaitForPort();
        Assert.That(Wire.Wire.WaitUntil(() => StatusLine().IsMatch(rocket.Stdout), TimeSpan.FromSeconds(30)), Is.True, rocket.Stdout);
        var status = new Uri($"http://127.0.0.1:{StatusLine().Match(rocket.Stdout).Groups[1].Value}/");
        var main = new IPEndPoint(IPAddress.Loopback, port);

        // The known load: 2xx with their body sizes summed, rejections of three reasons, two keep-alive connections left idle.
        long bodyBytes = 0;
        for (var i = 0; i < Served; i++)
        {
            bodyBytes += Exchange(main, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200);
        }

        var idle = new List<RawClient>();
        for (var i = 0; i < KeptIdle; i++)
        {
            var client = new RawClient(main);
            client.Send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
            var response = client.ReadResponse();
            Assert.That(response.StatusCode, Is.EqualTo(200));
            bodyBytes += response.Body.Length;
            idle.Add(client);
        }

        for (var i = 0; i < WithoutHost; i++)
        {
            Exchange(main, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400);
        }

        for (var i = 0; i < BadContentLength; i++)
        {
            Exchange(main, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n", 400);
        }

        Exchange(main, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n", 413);

        try
        {
            // The keep-alive connections reach the monitor just after their responses: wait for that, bounded.
            JsonElement json = default;
            Assert.That(Wire.Wire.WaitUntil(() => (json = Json(status)).GetProperty("metrics").GetProperty("rocket.connections").GetProperty("idle").GetDouble() == KeptIdle, TimeSpan.FromSeconds(10)), Is.True, json.ToString());

            var metrics = json.GetProperty("metrics");
            Assert.That(json.GetProperty("method").GetString(), Is.EqualTo("health"));
            Assert.That(metrics.GetProperty("rocket.requests").GetProperty("2xx").GetDouble(), Is.EqualTo(Served + KeptIdle));
            Assert.That(metrics.GetProperty("rocket.requests").GetProperty("4xx").GetDouble(), Is.EqualTo(WithoutHost + BadContentLength + TooLarge));
            Assert.That(metrics.GetProperty("rocket.response.body.size").GetDouble(), Is.EqualTo(bodyBytes));
            Assert.That(metrics.GetProperty("rocket.threads.max").GetDouble(), Is.EqualTo(6));
            Assert.That(json.GetProperty("requestsPerSecond").GetDouble(), Is.GreaterThan(0));

            var prometheus = PrometheusText.Parse(Get(status, "metrics", out var contentType));
            Assert.That(contentType, Does.StartWith("text/plain; version=0.0.4"));
            Assert.That(prometheus.Value("rocket_requests_total", "status_class", "2xx"), Is.EqualTo(Served + KeptIdle));
            Assert.That(prometheus.Value("rocket_requests_total", "status_class", "4xx"), Is.EqualTo(WithoutHost + BadContentLength + TooLarge));
            Assert.That(prometheus.Value("rocket_requests_total", "status_class", "5xx"), Is.Zero);
            Assert.That(prometheus.Value("rocket_rejections_total", "reason", "MissingOrMultipleHost"), Is.EqualTo(WithoutHost));
            Assert.That(prometheus.Value("rocket_rejections_total", "reason", "InvalidContentLength"), Is.EqualTo(BadContentLength));
            Assert.That(prometheus.Value("rocket_rejections_total", "reason", "RequestBodyTooLarge"), Is.EqualTo(TooLarge));
            Assert.That(prometheus.Value("rocket_rejections_total", "reason", "InvalidRequestLine"), Is.Zero);
            Assert.That(prometheus.Value("rocket_connections", "state", "idle"), Is.EqualTo(KeptIdle));
            Assert.That(prometheus.Value("rocket_connections", "state", "active"), Is.Zero);
            Assert.That(prometheus.Value("rocket_threads", "state", "busy"), Is.Zero);
            Assert.That(prometheus.Value("rocket_threads", "state", "idle"), Is.InRange(2, 6));
            Assert.That(prometheus.Value("rocket_threads_max"), Is.EqualTo(6));
            Assert.That(prometheus.Value("rocket_queue_length"), Is.Zero);
            Assert.That(prometheus.Value("rocket_response_body_size_bytes_total"), Is.EqualTo(bodyBytes));
            Assert.That(prometheus.Value("rocket_uptime_seconds"), Is.GreaterThan(0));
            Assert.That(prometheus.Samples.Single(s => s.Name == "rocket_info").Labels["method"], Is.EqualTo("health"));
            Assert.That(prometheus.Types["rocket_requests_total"], Is.EqualTo("counter"));
            Assert.That(prometheus.Types["rocket_connections"], Is.EqualTo("gauge"));
            Assert.That(prometheus.Samples.Select(s => s.Name).Distinct(), Is.All.Matches<string>(n => prometheus.Types.ContainsKey(n) && prometheus.Help.ContainsKey(n)));

            var html = Get(status, string.Empty, out contentType, out var policy);
            Assert.That(contentType, Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(html, Does.Not.Contain("<script").IgnoreCase.And.Not.Match(@"\son[a-z]+="), "no script, no event handler attributes");

            // What a browser shows while the page's policy forbids every script: the page reads without JavaScript.
            Assert.That(policy, Is.EqualTo("default-src 'none'; style-src 'unsafe-inline'"));
            var dom = chromium.DumpDom(status);
            Assert.That(Cell(dom, "method"), Is.EqualTo("health"));
            Assert.That(Cell(dom, "version"), Does.Match(@"^\d+\.\d+"));
            Assert.That(Cell(dom, "uptime"), Does.Match(@"^\d+m \d+s$"));
            Assert.That(Cell(dom, "threads-busy"), Is.EqualTo("0"));
            Assert.That(int.Parse(Cell(dom, "threads-idle"), CultureInfo.InvariantCulture), Is.InRange(2, 6));
            Assert.That(Cell(dom, "threads-max"), Is.EqualTo("6"));
            Assert.That(Cell(dom, "queue-length"), Is.EqualTo("0"));
            Assert.That(Cell(dom, "connections-active"), Is.EqualTo("0"));
            Assert.That(Cell(dom, "connections-idle"), Is.EqualTo(KeptIdle.ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "requests-total"), Is.EqualTo((Served + KeptIdle + WithoutHost + BadContentLength + TooLarge).ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "requests-2xx"), Is.EqualTo((Served + KeptIdle).ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "requests-4xx"), Is.EqualTo((WithoutHost + BadContentLength + TooLarge).ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "bytes-sent"), Is.EqualTo(bodyBytes.ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "rejections-MissingOrMultipleHost"), Is.EqualTo(WithoutHost.ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "rejections-InvalidContentLength"), Is.EqualTo(BadContentLength.ToString(CultureInfo.InvariantCulture)));
            Assert.That(Cell(dom, "rejections-RequestBodyTooLarge"), Is.EqualTo(TooLarge.ToString(CultureInfo.InvariantCulture)));
            Assert.That(double.Parse(Cell(dom, "requests-per-second"), CultureInfo.InvariantCulture), Is.GreaterThan(0));

            var screenshot = Path.Combine(DotNetCli.RepositoryRoot, "artifacts", "status-page.png");
            chromium.Screenshot(status, screenshot);
            var png = File.ReadAllBytes(screenshot);
            Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
            Assert.That(png, Has.Length.GreaterThan(20_000), "a rendered page, not a blank one");
            TestContext.AddTestAttachment(screenshot, "The status page as headless Chromium renders it");
        }
        finally
        {
            foreach (var c in idle)
            {
                c.Dispose();
            }
        }

        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    private static long Exchange(IPEndPoint endPoint, string request, int expectedStatus)
    {
        using var client = new RawClient(endPoint);
        client.Send(request);
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.EqualTo(expectedStatus), request);
        return response.Body.Length;
    }

    private static JsonElement Json(Uri status)
    {
        using var document = JsonDocument.Parse(Get(status, "json", out _));
        return document.RootElement.Clone();
    }

    private static string Get(Uri status, string path, out string? contentType) => Get(status, path, out contentType, out _);

    private static string Get(Uri status, string path, out string? contentType, out string? policy)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, status.Port));
        client.Send($"GET /{path} HTTP/1.1\r\nHost: status\r\nConnection: close\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.EqualTo(200), path);
        contentType = response.Header("Content-Type");
        policy = response.Header("Content-Security-Policy");
        return response.BodyText;
    }

    private static string Cell(string dom, string id)
    {
        var match = Regex.Match(dom, $"id=\"{Regex.Escape(id)}\">([^<]*)<");
        Assert.That(match.Success, Is.True, $"no element with id {id} in the rendered page");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex(@"^Status page on http://127\.0\.0\.1:(\d+)/", RegexOptions.Multiline)]
    private static partial Regex StatusLine();
}
