using System.Collections.Concurrent;
using System.Net;
using System.Text;
using RocketOwin.Internal;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// The rocket command with the internal switch ROCKET_EPOLL=1 (Rocket's own epoll loop for plain sockets): the proxy, on one
/// core as the benchmark runs it, serves many keep-alive and pipelining clients correctly, and its waits are on the loop's thread.
/// </summary>
[Platform("Linux")]
public class EpollEngineTests
{
    private const int Clients = 16;
    private const int RequestsPerClient = 40;

    [Test]
    public void WithTheEpollSwitchTheProxyAnswersEveryRequestOfManyKeepAliveAndPipeliningClientsWithItsOwnUpstreamAnswer()
    {
        Assume.That(EpollLoop.IsSupported, "the loop needs Linux on x86-64");
        using var upstream = new TestServer(new LambdaWorker(c =>
        {
            c.Response.Write(Encoding.ASCII.GetBytes("for " + c.Request.Target));
            return ValueTask.CompletedTask;
        }));
        var plugins = DotNetCli.NewTempDirectory("rocket-epoll");
        try
        {
            Run(upstream, plugins);
        }
        finally
        {
            DotNetCli.DeleteQuietly(plugins);
        }
    }

    private static void Run(TestServer upstream, string plugins)
    {
        // The proxy method as the rocket command finds plugins: <folder>/Rocket.Methods.Proxy/Rocket.Methods.Proxy.dll.
        var method = Directory.CreateDirectory(Path.Combine(plugins, "Rocket.Methods.Proxy")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Methods.Proxy", "bin", DotNetCli.Configuration, "net10.0")))
        {
            File.Copy(file, Path.Combine(method, Path.GetFileName(file)));
        }

        var environment = new Dictionary<string, string> { ["ROCKET_EPOLL"] = "1" };
        var arguments = $"--plugins \"{plugins}\" --method proxy --upstream http://127.0.0.1:{upstream.Port} --bind 127.0.0.1:0";
        using var rocket = File.Exists("/usr/bin/taskset")
            ? RocketProcess.Start($"-c 0 dotnet \"{RocketProcess.RocketDll}\" {arguments}", executable: "/usr/bin/taskset", environment: environment)
            : RocketProcess.Start(arguments, environment: environment);
        var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());

        var failures = new ConcurrentQueue<string>();
        var clients = Enumerable.Range(0, Clients).Select(client => new Thread(() =>
        {
            try
            {
                using var connection = new RawClient(endPoint, timeoutMs: 20_000);
                for (var r = 0; r < RequestsPerClient; r += 2)
                {
                    // Two requests in one write every time: the second is already buffered when the first is answered.
                    connection.Send($"GET /c{client}/r{r} HTTP/1.1\r\nHost: x\r\n\r\nGET /c{client}/r{r + 1} HTTP/1.1\r\nHost: x\r\n\r\n");
                    for (var k = r; k < r + 2; k++)
                    {
                        var response = connection.ReadResponse();
                        if (response.StatusCode != 200 || response.BodyText != $"for /c{client}/r{k}")
                        {
                            failures.Enqueue($"client {client} request {k}: {response.StatusCode} {response.BodyText}");
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                failures.Enqueue($"client {client}: {e.Message}");
            }
        })).ToList();
        clients.ForEach(t => t.Start());
        var finished = clients.All(t => t.Join(TimeSpan.FromSeconds(60)));

        Assert.That(finished, Is.True, "clients still waiting after 60 s");
        Assert.That(failures, Is.Empty);
        Assert.That(EpollRegistrations.Count(rocket.Id).Loop, Is.GreaterThan(0), "Rocket's loop serves the process");
    }
}
