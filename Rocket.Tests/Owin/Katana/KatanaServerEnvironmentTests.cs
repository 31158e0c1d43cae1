using System.Diagnostics;
using System.Text;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin.Katana;

/// <summary>The server side of the OWIN environment behaves as Katana's hosts did (HttpListener and SystemWeb; Nowin where they agree).</summary>
public class KatanaServerEnvironmentTests
{
    [Test]
    public void AnAppMayAddTheResponseProtocol()
    {
        using var server = Serve(env =>
        {
            env.Add("owin.ResponseProtocol", "HTTP/1.1");
            return Text(env, "added");
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("added"));
    }

    [Test]
    public void AnAppFaultCancelsCallCancelled()
    {
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(async env =>
        {
            var token = (CancellationToken)env["owin.CallCancelled"];
            token.Register(() => cancelled.TrySetResult(true));
            await Task.Yield();
            throw new InvalidOperationException("app fault");
        });

        var response = Get(server, "/");

        Assert.That(response.StatusCode, Is.EqualTo(500));
        Assert.That(cancelled.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "owin.CallCancelled did not fire after the app faulted");
    }

    [Test]
    public void ASynchronousAppFaultCancelsCallCancelled()
    {
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env =>
        {
            ((CancellationToken)env["owin.CallCancelled"]).Register(() => cancelled.TrySetResult(true));
            throw new InvalidOperationException("app fault");
        });

        Assert.That(Get(server, "/").StatusCode, Is.EqualTo(500));
        Assert.That(cancelled.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void AClientDisconnectIsSeenQuicklyWhileTheAppAwaitsOrBlocks(bool blocks)
    {
        // Katana's HttpListener host and Nowin notice a closed client within ~100 ms; the bound is generous for a loaded machine.
        using var running = new ManualResetEventSlim();
        var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(async env =>
        {
            var token = (CancellationToken)env["owin.CallCancelled"];
            token.Register(() => seen.TrySetResult(Stopwatch.GetTimestamp()));
            running.Set();
            if (blocks)
            {
                token.WaitHandle.WaitOne(TimeSpan.FromSeconds(20));
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(20), token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });

        var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.That(running.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Thread.Sleep(20); // let the request settle into its wait (the point is what happens after it started waiting)
        var closed = Stopwatch.GetTimestamp();
        client.Dispose();

        Assert.That(seen.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "owin.CallCancelled never fired");
        Assert.That(Stopwatch.GetElapsedTime(closed, seen.Task.Result), Is.LessThan(TimeSpan.FromMilliseconds(700)));
    }

    [Test]
    public void A101WithoutAnUpgradeIsAnErrorNotAHang()
    {
        using var server = Serve(env =>
        {
            env["owin.ResponseStatusCode"] = 101;
            return Task.CompletedTask;
        });

        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        var response = client.ReadResponse();

        Assert.That(response.StatusCode, Is.EqualTo(500));
        Assert.That(client.IsClosedByServer(), Is.True);
    }

    [Test]
    public void AHeadResponseDiscardsTheBodyTheAppWroteWhateverItsLength()
    {
        using var server = Serve(async env =>
        {
            var headers = (IDictionary<string, string[]>)env["owin.ResponseHeaders"];
            var path = (string)env["owin.RequestPath"];
            headers["Content-Length"] = [path == "/short" ? "3" : "5"];
            await ((Stream)env["owin.ResponseBody"]).WriteAsync(Encoding.ASCII.GetBytes(path == "/long" ? new string('x', 100_000) : "hello"));
        });

        using var client = server.Connect();
        foreach (var path in new[] { "/short", "/long", "/exact" })
        {
            client.Send($"HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n");
            var head = client.ReadResponse(headRequest: true);
            Assert.That(head.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"), path);
            Assert.That(head.Header("Content-Length"), Is.EqualTo(path == "/short" ? "3" : "5"), path);
        }

        // The connection is still in step: no stray body bytes precede the next response.
        client.Send("GET /exact HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("hello"));
    }

    [Test]
    public void PathBaseIsSpelledAsTheRequestSpelledIt()
    {
        string? pathBase = null, path = null;
        using var server = ServeAppInfo(new AppInfo
        {
            ["path_base"] = "/App",
            ["owin_app"] = new Func<IDictionary<string, object>, Task>(env =>
            {
                pathBase = (string)env["owin.RequestPathBase"];
                path = (string)env["owin.RequestPath"];
                return Task.CompletedTask;
            }),
        });

        Assert.That(Get(server, "/aPP/Items").StatusCode, Is.EqualTo(200));
        Assert.That(pathBase, Is.EqualTo("/aPP"));
        Assert.That(path, Is.EqualTo("/Items"));
    }
}
