using BenchmarkDotNet.Attributes;
using RocketOwin.Benchmarks.Commands;
using RocketOwin.Methods.Proxy;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// One GET / through an in-process Rocket <c>proxy</c> method to an in-process upstream
/// (<see cref="ProxyUpstreamWorker"/>, "Hello, World!"), over one kept-alive loopback client connection.
/// Allocated is everything the process allocated for one proxied request: the proxy's share plus the engine's
/// cost of an asynchronous request (see <see cref="AsyncHandlerRoundTripBenchmark"/>), the upstream's (0 for the
/// plaintext engine path) and this client's (0). Time per op is two loopback round trips and says little about throughput.
/// </summary>
[MemoryDiagnoser]
public class ProxyRoundTripBenchmarks : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"u8.ToArray();

    private Rocket? _upstream;
    private Rocket? _proxy;
    private LoopbackClient? _client;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        Rocket.RegisterMethod("micro-upstream", () => new ProxyUpstreamWorker());
        Rocket.RegisterMethod("micro-proxy", () => new ProxyWorker());
        _upstream = new Rocket(("127.0.0.1", 0), "micro-upstream", new AppInfo(), minThreads: 4, handleSignals: false);
        _upstream.Start(background: true);
        var appInfo = new AppInfo { ["upstream"] = $"http://127.0.0.1:{_upstream.BoundEndPoints[0].Port}" };
        _proxy = new Rocket(("127.0.0.1", 0), "micro-proxy", appInfo, minThreads: 4, handleSignals: false);
        _proxy.Start(background: true);
        _client = new LoopbackClient(_proxy);
        _client.Verify(Request, "Hello, World!");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _proxy?.Stop();
        _proxy = null;
        _upstream?.Stop();
        _upstream = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Sends the request and reads the whole response; returns its length in bytes.</summary>
    [Benchmark]
    public int RoundTrip() => _client!.RoundTrip(Request);
}
