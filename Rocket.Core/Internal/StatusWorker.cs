using System.Diagnostics;
using System.Text;

namespace RocketOwin.Internal;

/// <summary>
/// The operators' status page (<see cref="Rocket.StatusInterface"/>), served by a small Rocket of its own beside the
/// main one so that a saturated server still answers it: <c>/</c> HTML, <c>/json</c>, <c>/metrics</c> (Prometheus).
/// Everything comes from the main server's <c>Rocket</c> Meter, read through a MeterListener.
/// </summary>
internal sealed class StatusWorker : Worker, IDisposable
{
    /// <summary>The requests/s figure is the average over this window.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly ServerMetrics _metrics;
    private readonly MetricsReader _reader;
    private readonly Queue<(long Timestamp, long Requests)> _history = new();
    private readonly Lock _historyLock = new();
    private readonly MonitorTimer _sampler;

    public StatusWorker(ServerMetrics metrics)
    {
        _metrics = metrics;
        _reader = new MetricsReader(metrics.Meter);
        Sample();

        // One sample a second keeps the window's oldest point at hand; the newest is read at request time.
        _sampler = new MonitorTimer(Sample, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    protected internal override IReadOnlyCollection<string> AppInfoKeys => [];

    /// <summary>The report as it stands now.</summary>
    public StatusReport Report()
        => new(_metrics.MethodName, ServerMetrics.Version, _metrics.Uptime, RequestsPerSecond(), _reader.Read());

    protected override ValueTask HandleAsync(RequestContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.Set("Cache-Control", "no-store");
        if (request.Method is not ("GET" or "HEAD"))
        {
            response.StatusCode = 405;
            response.Headers.Set("Allow", "GET, HEAD");
            return ValueTask.CompletedTask;
        }

        byte[] body;
        switch (request.Path)
        {
            case "/":
                response.Headers.ContentType = "text/html; charset=utf-8";

                // No script may run on the page (it has none): it must read the same in any browser, with script off too.
                response.Headers.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
                body = Encoding.UTF8.GetBytes(StatusPage.Html(Report()));
                break;
            case "/json":
                response.Headers.ContentType = "application/json";
                body = StatusPage.Json(Report());
                break;
            case "/metrics":
                response.Headers.ContentType = PrometheusText.ContentType;
                body = Encoding.UTF8.GetBytes(PrometheusText.Render(Report()));
                break;
            default:
                response.StatusCode = 404;
                response.Headers.ContentType = "text/plain; charset=utf-8";
                body = "Not found: the status listener serves /, /json and /metrics.\n"u8.ToArray();
                break;
        }

        response.ContentLength = body.Length;
        response.Write(body);
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops sampling and listening to the Meter (also when the status server could not start).</summary>
    public void Dispose()
    {
        _sampler.Dispose();
        _reader.Dispose();
    }

    protected override void Shutdown() => Dispose();

    private void Sample()
    {
        lock (_historyLock)
        {
            var now = Stopwatch.GetTimestamp();
            _history.Enqueue((now, _metrics.RequestsTotal));
            while (_history.Count > 1 && Stopwatch.GetElapsedTime(_history.Peek().Timestamp, now) > RateWindow)
            {
                _history.Dequeue();
            }
        }
    }

    private double RequestsPerSecond()
    {
        var now = Stopwatch.GetTimestamp();
        var total = _metrics.RequestsTotal;
        lock (_historyLock)
        {
            var (then, before) = _history.Peek();
            var seconds = Stopwatch.GetElapsedTime(then, now).TotalSeconds;
            return seconds < 0.1 ? 0 : (total - before) / seconds;
        }
    }
}
