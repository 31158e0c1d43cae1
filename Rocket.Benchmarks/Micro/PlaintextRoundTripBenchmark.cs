using BenchmarkDotNet.Attributes;
using RocketOwin.Benchmarks.Commands;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// One GET / and its complete response over a single kept-alive loopback connection to an in-process
/// Rocket server with the <see cref="PlaintextWorker"/>. The number that matters is Allocated:
/// BenchmarkDotNet counts every thread's allocations in the process, so it is what the engine (plus this
/// allocation-free client) allocates per request. BENCHMARKING.md: it should be 0 in steady state.
/// Time per op is a loopback round trip (two context switches) and says little about throughput.
/// </summary>
[MemoryDiagnoser]
public class PlaintextRoundTripBenchmark : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();

    private Rocket? _server;
    private LoopbackClient? _client;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        _server = new Rocket(("127.0.0.1", 0), RegisterMethod(), new AppInfo(), minThreads: 4, handleSignals: false);
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

    /// <summary>Registers the method the server runs and returns its name.</summary>
    protected virtual string RegisterMethod()
    {
        PlaintextWorker.Register();
        return PlaintextWorker.Method;
    }

    /// <summary>Sends the request and reads the whole response; returns its length in bytes.</summary>
    [Benchmark]
    public int RoundTrip() => _client!.RoundTrip(Request);
}
