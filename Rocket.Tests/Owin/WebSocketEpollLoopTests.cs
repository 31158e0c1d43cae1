using System.Net.WebSockets;
using RocketOwin.Tests.Host;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Owin;

/// <summary>
/// Idle WebSockets on the rocket command with Rocket's epoll loop (<c>ROCKET_EPOLL=1</c>): their reads wait through the
/// connection's registration with the loop, not the runtime's socket engine.
/// </summary>
[NonParallelizable]
public sealed class WebSocketEpollLoopTests
{
    private const int Sockets = 200;
    private static readonly TimeSpan OperationBound = TimeSpan.FromSeconds(15);

    /// <summary>
    /// 200 sockets, one echo each, then quiet: each is registered with Rocket's loop and none with the runtime's engine
    /// (whose epoll registrations always ask for EPOLLOUT too; Rocket's read-side ones never do), messages still flow after
    /// the quiet time, and Stop (SIGTERM) closes every one of them with 1001 while they wait on the loop. Bounded: 15 s per
    /// step.
    /// </summary>
    [Test]
    public async Task IdleSocketsWaitOnRocketsLoopOnlyStillEchoAndGetGoingAwayAtStop()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Ignore("Rocket's epoll loop runs on Linux x86-64 only.");
        }

        var plugins = DotNetCli.NewTempDirectory("rocket-websocket-epoll");
        var sockets = new List<ClientWebSocket>();
        try
        {
            DotNetCli.CopyOwinPlugin(plugins);
            var app = typeof(WebSocketEchoStartup).Assembly.Location;
            var arguments = $"--plugins \"{plugins}\" --method owin --bind 127.0.0.1:0 --min-threads 4 --app \"{app}\" --set startup={typeof(WebSocketEchoStartup).FullName}";
            using var rocket = RocketProcess.Start(arguments, environment: new Dictionary<string, string> { ["ROCKET_EPOLL"] = "1" });
            var uri = new Uri($"ws://127.0.0.1:{rocket.WaitForPort()}/ws");

            for (var i = 0; i < Sockets; i++)
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                sockets.Add(socket);
                using var bound = new CancellationTokenSource(OperationBound);
                await socket.ConnectAsync(uri, bound.Token);
                await EchoAsync(socket, $"hello {i}");
            }

            // Quiet for a while: every server-side read is now an idle wait.
            await Task.Delay(TimeSpan.FromSeconds(1));
            var (loop, engine) = EpollRegistrations.Count(rocket.Id);
            Assert.That(loop, Is.GreaterThanOrEqualTo(Sockets), "sockets registered with Rocket's loop");
            Assert.That(engine, Is.LessThan(Sockets / 10), "sockets registered with the runtime's socket engine");

            await Task.WhenAll(sockets.Select((s, i) => EchoAsync(s, $"again {i}")));

            rocket.Signal("TERM");
            var closes = await Task.WhenAll(sockets.Select(ReceiveCloseAsync));
            Assert.That(closes, Is.All.EqualTo(WebSocketCloseStatus.EndpointUnavailable), "each socket closed with 1001 going away");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Abort();
                socket.Dispose();
            }

            DotNetCli.DeleteQuietly(plugins);
        }
    }

    private static async Task EchoAsync(ClientWebSocket socket, string text)
    {
        using var bound = new CancellationTokenSource(OperationBound);
        var sent = System.Text.Encoding.UTF8.GetBytes(text);
        await socket.SendAsync(sent, WebSocketMessageType.Text, true, bound.Token);
        var buffer = new byte[64];
        var result = await socket.ReceiveAsync(buffer.AsMemory(), bound.Token);
        Assert.That(System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count), Is.EqualTo(text));
    }

    private static async Task<WebSocketCloseStatus?> ReceiveCloseAsync(ClientWebSocket socket)
    {
        using var bound = new CancellationTokenSource(OperationBound);
        var result = await socket.ReceiveAsync(new byte[64].AsMemory(), bound.Token);
        return result.MessageType == WebSocketMessageType.Close ? socket.CloseStatus : null;
    }
}
