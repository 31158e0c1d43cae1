using BenchmarkDotNet.Attributes;
using RocketOwin.Benchmarks.Commands;
using RocketOwin.Methods.Owin;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// What the owin method adds per request: one GET / and its response over a kept-alive loopback connection to an
/// in-process Rocket serving (a) an OWIN AppFunc hello-world through the environment dictionary, (b) the same
/// written as a Katana Startup (<c>app.Run(ctx =&gt; ctx.Response.WriteAsync(...))</c>), next to (c) the bare
/// plaintext worker. Allocated per operation, minus the baseline's, is the cost of the environment and of the
/// Katana wrappers (BenchmarkDotNet counts allocations on every thread). Run with
/// <c>micro --filter *OwinEnvironment*</c>. The apps are <see cref="OwinPlaintextApps"/>, as in the load runs.
/// </summary>
[MemoryDiagnoser]
public class OwinEnvironmentBenchmarks : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();

    private readonly List<Rocket> _servers = [];
    private readonly List<LoopbackClient> _clients = [];
    private LoopbackClient? _plain;
    private LoopbackClient? _appFunc;
    private LoopbackClient? _katana;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        PlaintextWorker.Register();
        Rocket.RegisterMethod("owin-bench", static () => new OwinWorker());
        _plain = Connect(PlaintextWorker.Method, new AppInfo());
        _appFunc = Connect("owin-bench", OwinPlaintextApps.For("owin"));
        _katana = Connect("owin-bench", OwinPlaintextApps.For("katana"));
        foreach (var client in _clients)
        {
            client.Verify(Request, "Hello, World!");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        _servers.ForEach(s => s.Stop());
        _servers.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>The engine alone (PlaintextWorker).</summary>
    [Benchmark(Baseline = true)]
    public int Plaintext() => _plain!.RoundTrip(Request);

    /// <summary>An OWIN AppFunc reading and writing the environment.</summary>
    [Benchmark]
    public int AppFunc() => _appFunc!.RoundTrip(Request);

    /// <summary>A Katana Startup: Run + IOwinContext + Response.WriteAsync(string).</summary>
    [Benchmark]
    public int KatanaStartup() => _katana!.RoundTrip(Request);

    private LoopbackClient Connect(string method, AppInfo appInfo)
    {
        var server = new Rocket(("127.0.0.1", 0), method, appInfo, minThreads: 4, handleSignals: false);
        server.Start(background: true);
        _servers.Add(server);
        var client = new LoopbackClient(server);
        _clients.Add(client);
        return client;
    }
}
