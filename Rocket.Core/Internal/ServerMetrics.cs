using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace RocketOwin.Internal;

/// <summary>
/// The engine's counters and the <c>Rocket</c> <see cref="Meter"/> that publishes them (so dotnet-counters,
/// OpenTelemetry and the status page all see the same numbers). The request path only does an Interlocked add or two
/// per request; every instrument is observable, read from these counters and the pool, queue and table when a
/// listener asks, so nothing is allocated or locked per request.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    /// <summary>The Meter's name, as dotnet-counters and OpenTelemetry select it: <c>dotnet-counters monitor --counters Rocket</c>.</summary>
    public const string MeterName = "Rocket";

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    private static readonly RequestRejectionReason[] Reasons = Enum.GetValues<RequestRejectionReason>();

    private readonly ServerCore _core;
    private readonly long[] _statusClasses = new long[StatusClasses.Length];
    private readonly long[] _rejections = new long[Reasons.Length == 0 ? 1 : (int)Reasons.Max() + 1];
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private long _bytesSent;

    public ServerMetrics(ServerCore core, int maxThreads)
    {
        _core = core;
        MaxThreads = maxThreads;
        Meter = new Meter(MeterName, Version);
        Meter.CreateObservableUpDownCounter("rocket.threads", ObserveThreads, "{thread}", "Worker threads, by state: busy serving a connection, or idle waiting for one.");
        Meter.CreateObservableGauge("rocket.threads.max", () => MaxThreads, "{thread}", "Most worker threads the pool may start; 0 means no limit.");
        Meter.CreateObservableUpDownCounter("rocket.queue.length", () => _core.ActiveQueue.Count, "{connection}", "Connections in the active queue waiting for a worker thread.");
        Meter.CreateObservableUpDownCounter("rocket.connections", ObserveConnections, "{connection}", "Open client connections, by state: active (being served or queued) or idle (waiting in the monitor for their next request).");
        Meter.CreateObservableUpDownCounter("rocket.requests.active", () => _core.InFlight, "{request}", "Requests being handled now.");
        Meter.CreateObservableCounter("rocket.requests", ObserveRequests, "{request}", "Requests answered, by status class.");
        Meter.CreateObservableCounter("rocket.response.body.size", () => Interlocked.Read(ref _bytesSent), "By", "Response body bytes sent.");
        Meter.CreateObservableCounter("rocket.rejections", ObserveRejections, "{request}", "Requests refused before reaching the method, by reason (RequestRejectionReason).");
        Meter.CreateObservableGauge("rocket.uptime", () => Uptime.TotalSeconds, "s", "Seconds since the server started.");
        Meter.CreateObservableGauge("rocket.info", () => new Measurement<int>(1, new("method", core.MethodName), new("version", Version)), null, "The method served and Rocket.Owin's version (always 1).");
    }

    /// <summary>Rocket.Core's version, without the source revision.</summary>
    public static string Version { get; } = (typeof(ServerMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    public Meter Meter { get; }

    public int MaxThreads { get; }

    public string MethodName => _core.MethodName;

    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Requests answered since start (every status class).</summary>
    public long RequestsTotal
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _statusClasses.Length; i++)
            {
                total += Interlocked.Read(ref _statusClasses[i]);
            }

            return total;
        }
    }

    /// <summary>Counts a finished request: once per request, on the thread that finished it.</summary>
    public void RequestCompleted(int status, long bodyBytes)
    {
        var statusClass = (uint)(status / 100) - 1;
        if (statusClass < (uint)_statusClasses.Length)
        {
            Interlocked.Increment(ref _statusClasses[statusClass]);
        }

        if (bodyBytes > 0)
        {
            Interlocked.Add(ref _bytesSent, bodyBytes);
        }
    }

    /// <summary>Counts a request refused for <paramref name="reason"/>.</summary>
    public void Rejected(RequestRejectionReason reason)
    {
        if ((uint)reason < (uint)_rejections.Length)
        {
            Interlocked.Increment(ref _rejections[(int)reason]);
        }
    }

    public void Dispose() => Meter.Dispose();

    private IEnumerable<Measurement<int>> ObserveThreads()
    {
        var pool = _core.Pool;
        return [new(pool.BusyCount, new KeyValuePair<string, object?>("state", "busy")), new(pool.IdleCount, new KeyValuePair<string, object?>("state", "idle"))];
    }

    private IEnumerable<Measurement<int>> ObserveConnections()
    {
        // One pass over the table when someone asks, instead of an idle counter maintained on every request.
        var idle = new StrongBox<int>();
        _core.Table.ForEach(idle, static (c, box) =>
        {
            if (c.IsIdle)
            {
                box.Value++;
            }
        });
        var open = _core.Table.Count;
        return [new(Math.Max(0, open - idle.Value), new KeyValuePair<string, object?>("state", "active")), new(idle.Value, new KeyValuePair<string, object?>("state", "idle"))];
    }

    private IEnumerable<Measurement<long>> ObserveRequests()
    {
        var result = new Measurement<long>[StatusClasses.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new(Interlocked.Read(ref _statusClasses[i]), new KeyValuePair<string, object?>("status_class", StatusClasses[i]));
        }

        return result;
    }

    private IEnumerable<Measurement<long>> ObserveRejections()
        => Reasons.Select(r => new Measurement<long>(Interlocked.Read(ref _rejections[(int)r]), new KeyValuePair<string, object?>("reason", r.ToString())));
}
