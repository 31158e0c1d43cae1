using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Owin;
using RocketOwin.Benchmarks.Commands;
using RocketOwin.Methods.Owin;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// What the owin method adds per request: one GET / and its response over a kept-alive loopback connection to an
/// in-process Rocket serving (a) an OWIN AppFunc hello-world through the environment dictionary, (b) the same
/// written as a Katana Startup (<c>app.Run(ctx =&gt; ctx.Response.WriteAsync(...))</c>), next to (c) the bare
/// plaintext worker. Allocated per operation, minus the baseline's, is the cost of the environment and of the
/// Katana wrappers (BenchmarkDotNet counts allocations on every thread). Run with
/// <c>micro --filter *OwinEnvironment*</c>.
/// </summary>
[MemoryDiagnoser]
public class OwinEnvironmentBenchmarks : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] Hello = "Hello, World!"u8.ToArray();
    private static readonly string[] TextPlain = ["text/plain"];
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ContentLengthName = "content-length:"u8.ToArray();

    private readonly byte[] _buffer = new byte[4096];
    private readonly List<Rocket> _servers = [];
    private Socket? _plain;
    private Socket? _appFunc;
    private Socket? _katana;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        PlaintextWorker.Register();
        Rocket.RegisterMethod("owin-bench", static () => new OwinWorker());
        _plain = Connect(new Rocket(("127.0.0.1", 0), PlaintextWorker.Method, new AppInfo(), minThreads: 4, handleSignals: false));
        _appFunc = Connect(new Rocket(("127.0.0.1", 0), "owin-bench", new AppInfo { ["owin_app"] = (Func<IDictionary<string, object>, Task>)HelloAppFunc }, minThreads: 4, handleSignals: false));
        _katana = Connect(new Rocket(("127.0.0.1", 0), "owin-bench", new AppInfo { ["startup"] = (Action<IAppBuilder>)HelloStartup }, minThreads: 4, handleSignals: false));
        foreach (var socket in new[] { _plain, _appFunc, _katana })
        {
            var length = RoundTrip(socket);
            var response = Encoding.Latin1.GetString(_buffer, 0, length);
            if (!response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || !response.EndsWith("\r\n\r\nHello, World!", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("not the hello-world response:\n" + response);
            }
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        foreach (var socket in new[] { _plain, _appFunc, _katana })
        {
            socket?.Dispose();
        }

        foreach (var server in _servers)
        {
            server.Stop();
        }

        _servers.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>The engine alone (PlaintextWorker).</summary>
    [Benchmark(Baseline = true)]
    public int Plaintext() => RoundTrip(_plain!);

    /// <summary>An OWIN AppFunc reading and writing the environment.</summary>
    [Benchmark]
    public int AppFunc() => RoundTrip(_appFunc!);

    /// <summary>A Katana Startup: Run + IOwinContext + Response.WriteAsync(string).</summary>
    [Benchmark]
    public int KatanaStartup() => RoundTrip(_katana!);

    private static Task HelloAppFunc(IDictionary<string, object> env)
    {
        ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["Content-Type"] = TextPlain;
        return ((Stream)env["owin.ResponseBody"]).WriteAsync(Hello, 0, Hello.Length);
    }

    private static void HelloStartup(IAppBuilder app)
        => app.Run(context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("Hello, World!");
        });

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        while (head.Length > 0)
        {
            var end = head.IndexOf("\r\n"u8);
            var line = end < 0 ? head : head[..end];
            if (line.Length > ContentLengthName.Length
                && Ascii.EqualsIgnoreCase(line[..ContentLengthName.Length], ContentLengthName)
                && Utf8Parser.TryParse(line[ContentLengthName.Length..].Trim((byte)' '), out int length, out _))
            {
                return length;
            }

            head = end < 0 ? default : head[(end + 2)..];
        }

        throw new InvalidOperationException("response without Content-Length");
    }

    private Socket Connect(Rocket server)
    {
        server.Start(background: true);
        _servers.Add(server);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, server.BoundEndPoints[0].Port));
        return socket;
    }

    private int RoundTrip(Socket socket)
    {
        socket.Send(Request);
        var filled = 0;
        var expected = int.MaxValue;
        while (filled < expected)
        {
            var received = socket.Receive(_buffer, filled, _buffer.Length - filled, SocketFlags.None);
            if (received == 0)
            {
                throw new InvalidOperationException($"connection closed after {filled} bytes");
            }

            filled += received;
            if (expected == int.MaxValue)
            {
                var headEnd = _buffer.AsSpan(0, filled).IndexOf(HeadTerminator);
                if (headEnd >= 0)
                {
                    expected = headEnd + HeadTerminator.Length + ContentLength(_buffer.AsSpan(0, headEnd));
                }
            }
        }

        return filled;
    }
}
