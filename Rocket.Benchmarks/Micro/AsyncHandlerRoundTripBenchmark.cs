using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using RocketOwin.Benchmarks.Commands;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// The plaintext round trip with a handler that completes asynchronously (it yields once, as every proxied request
/// waits for its upstream). Allocated is what the engine itself costs per asynchronous request: the baseline to
/// subtract from <see cref="ProxyRoundTripBenchmarks"/> to get the proxy method's own allocations.
/// </summary>
[MemoryDiagnoser]
public class AsyncHandlerRoundTripBenchmark : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] Body = "Hello, World!"u8.ToArray();

    private Rocket? _server;
    private LoopbackClient? _client;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        Rocket.RegisterMethod("micro-async", () => new YieldingWorker());
        _server = new Rocket(("127.0.0.1", 0), "micro-async", new AppInfo(), minThreads: 4, handleSignals: false);
        _server.Start(background: true);
        _client = new LoopbackClient(_server);
        _client.Verify(Request, "Hello, World!");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _server?.Stop();
        _server = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Sends the request and reads the whole response; returns its length in bytes.</summary>
    [Benchmark]
    public int RoundTrip() => _client!.RoundTrip(Request);

    private sealed class YieldingWorker : Worker
    {
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        protected override async ValueTask HandleAsync(RequestContext context)
        {
            // A pooled state machine box, queued as its own work item: the handler allocates nothing itself.
            await Task.Yield();
            context.Response.Headers.ContentType = "text/plain";
            context.Response.Write(Body);
        }
    }
}
