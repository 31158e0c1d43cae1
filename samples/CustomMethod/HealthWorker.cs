using System.Buffers;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using RocketOwin;

[assembly: RocketMethod("health", typeof(CustomMethod.HealthWorker))]

namespace CustomMethod;

/// <summary>
/// Method <c>health</c>: answers every request with a JSON status document (service name, uptime, version,
/// requests served), the kind of endpoint a load balancer or an orchestrator polls.
/// </summary>
public sealed class HealthWorker : Worker
{
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly string _version = (typeof(HealthWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown").Split('+')[0];
    private string _service = "rocket";
    private long _requests;

    /// <inheritdoc />
    /// <remarks>Every key README.md documents; any other key stops the server at start (a typo must not pass silently).</remarks>
    protected override IReadOnlyCollection<string> AppInfoKeys { get; } = ["service"];

    /// <inheritdoc />
    protected override void Initialize()
    {
        _service = AppInfo.GetString("service", "rocket")!;
        if (_service.Length is 0 or > 100)
        {
            throw AppInfo.Invalid("service", _service, "a service name of 1 to 100 characters");
        }
    }

    /// <inheritdoc />
    protected override ValueTask HandleAsync(RequestContext context)
    {
        var served = Interlocked.Increment(ref _requests);
        context.Response.Headers.ContentType = "application/json";
        context.Response.Headers.Set("Cache-Control", "no-store");
        var body = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("status", "ok");
            json.WriteString("service", _service);
            json.WriteString("version", _version);
            json.WriteNumber("uptimeSeconds", Math.Round(Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, 3));
            json.WriteNumber("requests", served);
            json.WriteEndObject();
        }

        // One complete write: the response gets a Content-Length instead of chunking.
        context.Response.Write(body.WrittenSpan);
        return ValueTask.CompletedTask;
    }
}
