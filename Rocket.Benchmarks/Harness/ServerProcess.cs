using System.Globalization;
using System.Net.Sockets;
using System.Reflection;

namespace RocketOwin.Benchmarks.Harness;

internal enum ServerKind
{
    Rocket,
    Kestrel,

    /// <summary>Rocket's "owin" method serving the plaintext AppFunc.</summary>
    Owin,

    /// <summary>Rocket's "owin" method serving the plaintext as a Katana Startup (app.Run + WriteAsync).</summary>
    Katana,

    /// <summary>Rocket's "owin" method echoing WebSocket messages (WebSocketEchoApp).</summary>
    OwinWebSocket,

    /// <summary>Kestrel with app.UseWebSockets() echoing WebSocket messages (KestrelPeer ... websocket).</summary>
    KestrelWebSocket,
}

/// <summary>A server under test: a child process pinned to <see cref="Pinning.ServerCore"/> on 127.0.0.1.</summary>
internal sealed class ServerProcess : IDisposable
{
    private ServerProcess(string name, ServerKind kind, int port, ChildProcess child, string commandLine)
    {
        Name = name;
        Kind = kind;
        Port = port;
        Child = child;
        CommandLine = commandLine;
    }

    public string Name { get; }

    public ServerKind Kind { get; }

    public int Port { get; }

    public ChildProcess Child { get; }

    public int Pid => Child.Id;

    /// <summary>The command with the environment it was given in front, as a shell would take it.</summary>
    public string CommandLine { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>The response to the readiness probe (set by <see cref="WaitReadyAsync"/>).</summary>
    public RawResponse? FirstResponse { get; private set; }

    /// <summary>
    /// Starts a server. Rocket runs as this program's <c>serve-rocket</c> command with inline socket
    /// completions (DESIGN.md: keeps the thread count low); Kestrel runs with its own defaults.
    /// </summary>
    public static ServerProcess Start(ServerKind kind, string name, int port, int rocketMinThreads)
    {
        var address = $"127.0.0.1:{port}";
        var (arguments, environment) = kind switch
        {
            ServerKind.Kestrel or ServerKind.KestrelWebSocket => (
                (IReadOnlyList<string>)(kind == ServerKind.Kestrel ? [KestrelPeerPath(), address] : [KestrelPeerPath(), address, "websocket"]),
                new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }),
            ServerKind.Rocket or ServerKind.Owin or ServerKind.Katana or ServerKind.OwinWebSocket => (
                [typeof(ServerProcess).Assembly.Location, "serve-rocket", "--port", port.ToString(CultureInfo.InvariantCulture),
                 "--min-threads", rocketMinThreads.ToString(CultureInfo.InvariantCulture),
                 "--app", kind switch { ServerKind.Owin => "owin", ServerKind.Katana => "katana", ServerKind.OwinWebSocket => "websocket", _ => "plaintext" }],
                new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var command = Pinning.Wrap(Pinning.ServerCore, DotnetHost(), arguments);
        var child = ChildProcess.Start(command[0], command.Skip(1).ToArray(), environment);
        var commandLine = Shell.Join(environment.Select(e => $"{e.Key}={e.Value}").Concat(command));
        return new ServerProcess(name, kind, port, child, commandLine);
    }

    /// <summary>Polls GET / until the server answers; fails with its output if it exits or times out.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (Child.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited during start-up: {Child.CommandLine}\n{Child.Output}");
            }
            try
            {
                FirstResponse = await RawHttp.GetAsync(Port, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                last = e;
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new TimeoutException(
            $"{Name} not answering on {Url} after {timeout.TotalSeconds:0} s ({last?.Message}): {Child.CommandLine}\n{Child.Output}");
    }

    /// <summary>RSS in KiB and thread count, now.</summary>
    public (long RssKiB, int Threads) Sample() => (ProcStats.RssKiB(Pid), ProcStats.Threads(Pid));

    public void Dispose() => Child.Dispose();

    /// <summary>KestrelPeer.dll, built with this project (its path is baked in by the .csproj).</summary>
    private static string KestrelPeerPath()
    {
        var path = typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "KestrelPeerPath")?.Value;
        return !string.IsNullOrEmpty(path) && File.Exists(path)
            ? path
            : throw new FileNotFoundException($"KestrelPeer not built (expected at '{path}'): build Rocket.Benchmarks, which builds it.");
    }

    /// <summary>The dotnet host running us (or the one on PATH when we run from the apphost).</summary>
    internal static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return root is not null && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet") : "dotnet";
    }
}
