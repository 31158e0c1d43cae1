using System.Net.WebSockets;
using RocketOwin.Tests.Host;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Owin;

/// <summary>
/// WebSockets served by the real rocket command, which runs socket completions inline on the runtime's socket engine
/// threads (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1): code that blocks there stalls every connection the engine
/// serves, which an in-process server (completions on the thread pool) never shows.
/// </summary>
[NonParallelizable]
public sealed class WebSocketRocketCommandTests
{
    private const int Sockets = 3000;
    private const int Parallel = 128;
    private static readonly TimeSpan OperationBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The benchmark's idle phase: 3,000 sockets opened 128 at a time, one echo on each, then left open and quiet. A
    /// zero-byte receive is only a readiness hint (the runtime completes it on any notification, also a stale one for
    /// bytes a worker thread has already read), and a blocking read after it once sat on the socket engine thread
    /// until that client spoke again, which it never did: every connection on that engine stalled for the 60 s I/O
    /// timeout. The server runs on one core when taskset is there, as the benchmark runs it. Bounded: 10 s per operation.
    /// </summary>
    [Test]
    public async Task ManySocketsOpenedInParallelAndLeftQuietNeverStallTheServer()
    {
        var plugins = DotNetCli.NewTempDirectory("rocket-websocket-command");
        var sockets = new List<ClientWebSocket>();
        try
        {
            DotNetCli.CopyOwinPlugin(plugins);

            var app = typeof(WebSocketEchoStartup).Assembly.Location;
            var arguments = $"--plugins \"{plugins}\" --method owin --bind 127.0.0.1:0 --min-threads 4 --app \"{app}\" --set startup={typeof(WebSocketEchoStartup).FullName}";
            using var rocket = RocketProcess.StartOnOneCore(arguments);
            var uri = new Uri($"ws://127.0.0.1:{rocket.WaitForPort()}/ws");

            var opened = new ClientWebSocket[Sockets];
            string? failure = null;
            using var stop = new CancellationTokenSource();
            try
            {
                await System.Threading.Tasks.Parallel.ForEachAsync(Enumerable.Range(0, Sockets), new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = stop.Token }, async (i, _) =>
                {
                    try
                    {
                        opened[i] = await OpenWithOneEchoAsync(uri);
                    }
                    catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
                    {
                        Interlocked.CompareExchange(ref failure, $"socket {i} of {Sockets} did not open and echo within {OperationBound.TotalSeconds} s: {e.GetType().Name}: {e.Message}", null);
                        await stop.CancelAsync();
                    }
                });
            }
            catch (OperationCanceledException) when (failure is not null)
            {
            }

            sockets.AddRange(opened.Where(s => s is not null));
            Assert.That(failure, Is.Null);

            // All quiet now: a fresh socket is still served at once.
            using var fresh = await OpenWithOneEchoAsync(uri);
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

    private static async Task<ClientWebSocket> OpenWithOneEchoAsync(Uri uri)
    {
        using var bound = new CancellationTokenSource(OperationBound);
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(uri, bound.Token);
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, bound.Token);
            var buffer = new byte[16];
            var result = await socket.ReceiveAsync(buffer.AsMemory(), bound.Token);
            Assert.That(result.Count, Is.EqualTo(5), "the echo of hello");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
