using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin;

public class OwinEnvironmentTests
{
    private static readonly string[] RequiredKeys =
    [
        "owin.RequestBody", "owin.RequestHeaders", "owin.RequestMethod", "owin.RequestPath", "owin.RequestPathBase",
        "owin.RequestProtocol", "owin.RequestQueryString", "owin.RequestScheme", "owin.RequestId", "owin.ResponseBody",
        "owin.ResponseHeaders", "owin.ResponseStatusCode", "owin.CallCancelled", "owin.Version",
        "server.RemoteIpAddress", "server.RemotePort", "server.LocalIpAddress", "server.LocalPort", "server.IsLocal",
        "server.OnSendingHeaders", "server.Capabilities", "host.TraceOutput", "host.OnAppDisposing", "sendfile.SendAsync",
    ];

    [Test]
    public void AnAppsContinuationsNeverRunOnTheThreadThatCompletedWhatItAwaited()
    {
        // With inline socket completions the completing thread can be the socket engine's: an app that then blocks
        // (Thread.Sleep here, a synchronous write to a slow client in real life) must not block it.
        var release = new TaskCompletionSource(); // without the app's context, its continuation would run inside SetResult
        using var entered = new ManualResetEventSlim();
        using var server = OwinTestSupport.Serve(async env =>
        {
            entered.Set();
            await release.Task;
            Thread.Sleep(1500);
            await OwinTestSupport.Text(env, "late");
        });
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);

        Assert.That(RocketOwin.Tests.Wire.Wire.TimeToComplete(release), Is.LessThan(TimeSpan.FromSeconds(1)), "the app's continuation ran on the completing thread");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("late"));
    }

    [Test]
    public void EnvironmentCarriesEveryRequiredAndCommonKey()
    {
        Dictionary<string, object>? seen = null;
        using var server = Serve(env =>
        {
            seen = new Dictionary<string, object>(env);
            return Task.CompletedTask;
        });

        var response = Get(server, "/a%20b/c%2Fd?x=1%20&y");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(seen, Is.Not.Null);
        Assert.That(seen!.Keys, Is.SupersetOf(RequiredKeys));
        Assert.Multiple(() =>
        {
            Assert.That(seen["owin.RequestMethod"], Is.EqualTo("GET"));
            Assert.That(seen["owin.RequestPath"], Is.EqualTo("/a b/c%2Fd"));
            Assert.That(seen["owin.RequestPathBase"], Is.EqualTo(""));
            Assert.That(seen["owin.RequestQueryString"], Is.EqualTo("x=1%20&y"));
            Assert.That(seen["owin.RequestScheme"], Is.EqualTo("http"));
            Assert.That(seen["owin.RequestProtocol"], Is.EqualTo("HTTP/1.1"));
            Assert.That(seen["owin.ResponseStatusCode"], Is.EqualTo(200));
            Assert.That(seen["owin.Version"], Is.EqualTo("1.0"));
            Assert.That(seen["owin.CallCancelled"], Is.InstanceOf<CancellationToken>());
            Assert.That(seen["server.RemoteIpAddress"], Is.EqualTo("127.0.0.1"));
            Assert.That(seen["server.LocalPort"], Is.EqualTo(server.Port.ToString()));
            Assert.That(seen["server.IsLocal"], Is.EqualTo(true));
            Assert.That(seen["host.TraceOutput"], Is.InstanceOf<TextWriter>());
            Assert.That(((IDictionary<string, object>)seen["server.Capabilities"])["server.Name"], Is.EqualTo("Rocket.Owin"));
            Assert.That(seen.ContainsKey("ssl.ClientCertificate"), Is.False);
        });
    }

    [Test]
    public void RequestHeadersIgnoreCaseAndKeepRepeatedFields()
    {
        string[]? one = null, many = null;
        using var server = Serve(env =>
        {
            var headers = (IDictionary<string, string[]>)env["owin.RequestHeaders"];
            one = headers["x-SINGLE"];
            many = headers["X-Many"];
            return Task.CompletedTask;
        });

        Get(server, "/", "X-Single: one\r\nX-Many: a\r\nx-many: b\r\n");

        Assert.That(one, Is.EqualTo(new[] { "one" }));
        Assert.That(many, Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void ExtraKeysLiveOnlyForTheirRequest()
    {
        var sawOld = new List<bool>();
        using var server = Serve(env =>
        {
            sawOld.Add(env.ContainsKey("app.Marker"));
            env["app.Marker"] = 1;
            return Task.CompletedTask;
        });

        using var client = server.Connect();
        for (var i = 0; i < 2; i++)
        {
            client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        }

        Assert.That(sawOld, Is.EqualTo(new[] { false, false }));
    }

    [Test]
    public void StatusCodeAndReasonPhraseReachTheWire()
    {
        using var server = Serve(env =>
        {
            env["owin.ResponseStatusCode"] = 201;
            env["owin.ResponseReasonPhrase"] = "Made It";
            var headers = (IDictionary<string, string[]>)env["owin.ResponseHeaders"];
            headers["X-Multi"] = ["1", "2"];
            return Text(env, "created");
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 201 Made It"));
        Assert.That(response.HeaderCount("X-Multi"), Is.EqualTo(2));
        Assert.That(response.BodyText, Is.EqualTo("created"));
    }

    [TestCase(99)]
    [TestCase(100)]
    [TestCase(1000)]
    public void InvalidStatusCodesAreRejectedWith500(int status)
    {
        using var server = Serve(env =>
        {
            env["owin.ResponseStatusCode"] = status;
            return Task.CompletedTask;
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 500 Internal Server Error"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("0"));
    }

    [Test]
    public void ResponseHeadersAndStatusLockAtTheFirstWrite()
    {
        Exception? headerChange = null, statusChange = null;
        using var server = Serve(async env =>
        {
            await Text(env, "body");
            var headers = (IDictionary<string, string[]>)env["owin.ResponseHeaders"];
            headerChange = Catch(() => headers["X-Late"] = ["1"]);
            statusChange = Catch(() => env["owin.ResponseStatusCode"] = 404);
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("X-Late"), Is.Null);
        Assert.That(headerChange, Is.InstanceOf<InvalidOperationException>());
        Assert.That(statusChange, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public void OnSendingHeadersRunsLastRegisteredFirstAndMayStillChangeHeaders()
    {
        using var server = Serve(async env =>
        {
            var register = (Action<Action<object>, object>)env["server.OnSendingHeaders"];
            var headers = (IDictionary<string, string[]>)env["owin.ResponseHeaders"];
            void Append(object name) => headers["X-Order"] = [(headers.TryGetValue("X-Order", out var v) ? v[0] : "") + name];
            register(Append, "A");
            register(Append, "B");
            register(Append, "C");
            await Text(env, "hi");
        });

        var response = Get(server, "/");

        Assert.That(response.Header("X-Order"), Is.EqualTo("CBA"));
        Assert.That(response.BodyText, Is.EqualTo("hi"));
    }

    [Test]
    public void SmallCompleteBodyGetsContentLengthAndAFlushedOneIsChunked()
    {
        using var server = Serve(async env =>
        {
            await Text(env, "part one;");
            if ((string)env["owin.RequestPath"] == "/stream")
            {
                await ((Stream)env["owin.ResponseBody"]).FlushAsync();
                await Text(env, "part two");
            }
        });

        var small = Get(server, "/small");
        var streamed = Get(server, "/stream");

        Assert.That(small.Header("Content-Length"), Is.EqualTo("9"));
        Assert.That(small.WasChunked, Is.False);
        Assert.That(streamed.WasChunked, Is.True);
        Assert.That(streamed.Header("Content-Length"), Is.Null);
        Assert.That(streamed.BodyText, Is.EqualTo("part one;part two"));
    }

    [Test]
    public void AppFaultBeforeWritingGives500WithEmptyBody()
    {
        using var server = Serve(async env =>
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 500 Internal Server Error"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("0"));
    }

    [Test]
    public void AppFaultAfterTheResponseStartedAbortsTheConnection()
    {
        using var server = Serve(async env =>
        {
            await Text(env, "partial");
            await ((Stream)env["owin.ResponseBody"]).FlushAsync();
            throw new InvalidOperationException("boom");
        });

        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");

        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
        string rest;
        try
        {
            rest = Encoding.Latin1.GetString(client.ReadToEnd());
        }
        catch (IOException)
        {
            rest = "(reset)";
        }

        // A complete chunked response would end with the last chunk; an aborted one never does.
        Assert.That(rest, Does.Contain("partial").Or.EqualTo("(reset)"));
        Assert.That(rest, Does.Not.EndWith("0\r\n\r\n"));
    }

    [Test]
    public void DeclaredContentLengthTheBodyDoesNotMatchGives500()
    {
        using var server = Serve(env =>
        {
            ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["Content-Length"] = ["10"];
            return Text(env, "short");
        });

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 500 Internal Server Error"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("0"));
    }

    [Test]
    public void HundredContinueIsSentWhenTheAppFirstReadsTheBody()
    {
        using var server = Serve(async env =>
        {
            var body = new MemoryStream();
            await ((Stream)env["owin.RequestBody"]).CopyToAsync(body);
            await Text(env, "got " + Encoding.UTF8.GetString(body.ToArray()));
        });

        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");

        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 100 Continue"));
        Assert.That(client.ReadLine(), Is.EqualTo(""));
        client.Send("hello");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("got hello"));
    }

    [Test]
    public void SendFileSendsTheFileRange()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "0123456789abcdef");
        try
        {
            using var server = Serve(env =>
            {
                var sendFile = (Func<string, long, long?, CancellationToken, Task>)env["sendfile.SendAsync"];
                return sendFile(path, 4, (string)env["owin.RequestPath"] == "/rest" ? null : 6, CancellationToken.None);
            });

            Assert.That(Get(server, "/part").BodyText, Is.EqualTo("456789"));
            Assert.That(Get(server, "/rest").BodyText, Is.EqualTo("456789abcdef"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void CallCancelledFiresWhenTheClientGoesAway()
    {
        var started = new ManualResetEventSlim();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(async env =>
        {
            var token = (CancellationToken)env["owin.CallCancelled"];
            using var registration = token.Register(() => cancelled.TrySetResult());
            started.Set();
            await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        });

        var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.That(started.Wait(TimeSpan.FromSeconds(10)), Is.True, "the app never started");
        client.Socket.LingerState = new LingerOption(true, 0);
        client.Dispose();

        Assert.That(cancelled.Task.Wait(TimeSpan.FromSeconds(15)), Is.True, "owin.CallCancelled did not fire after the client disconnected");
    }

    [Test]
    public void AwaitingAppsDoNotHoldWorkerThreads()
    {
        // Two worker threads: 200 requests each awaiting 100 ms would take 10 s if each held a thread.
        using var server = Serve(async env => { await Task.Delay(100); await Text(env, "ok"); }, minThreads: 2, maxThreads: 2);

        // An async client: blocking client threads would starve the thread pool the app's continuations run on.
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var requests = Enumerable.Range(0, 200).Select(_ => http.GetStringAsync(server.BaseUri)).ToArray();
        Assert.That(Task.WaitAll(requests, TimeSpan.FromSeconds(30)), Is.True);
        watch.Stop();

        Assert.That(requests.Select(r => r.Result), Is.All.EqualTo("ok"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "awaiting apps were serialised on the worker threads");
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
