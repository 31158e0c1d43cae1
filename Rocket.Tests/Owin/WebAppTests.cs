using System.Net;
using System.Net.Sockets;
using Microsoft.Owin.Hosting;
using Owin;
using RocketOwin.Methods.Owin;
using RocketOwin.Methods.Owin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;

public class WebAppTests
{
    [Test]
    public void HostAddressesListTheInterfacesListenedOnWhenStartedWithoutWebApp()
    {
        IList<IDictionary<string, object>>? seen = null;
        using var server = new TestServer(
            () => new OwinWorker(),
            new AppInfo
            {
                ["startup"] = (Action<IAppBuilder>)(app =>
                {
                    seen = (IList<IDictionary<string, object>>)app.Properties["host.Addresses"];
                    app.Run(c => c.Response.WriteAsync("ok"));
                }),
                ["path_base"] = "/app",
            },
            interfaces: [("127.0.0.1", 0), ("0.0.0.0", 0)]);

        var ports = server.Server.BoundEndPoints.Select(e => e.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(seen, Is.Not.Null);
        Assert.That(seen!.Select(a => $"{a["scheme"]}://{a["host"]}:{a["port"]}{a["path"]}"),
            Is.EqualTo(new[] { $"http://127.0.0.1:{ports[0]}/app", $"http://*:{ports[1]}/app" }));
        Assert.That(OwinTestSupport.Get(server, "/app/").BodyText, Is.EqualTo("ok"));
    }

    [Test]
    public void HostAddressesGivenInAppInfoArePassedOnAsTheyAre()
    {
        var given = new List<IDictionary<string, object>> { new Dictionary<string, object> { ["scheme"] = "http", ["host"] = "example.org", ["port"] = "80", ["path"] = "" } };
        object? seen = null;
        using var server = new TestServer(
            () => new OwinWorker(),
            new AppInfo
            {
                ["startup"] = (Action<IAppBuilder>)(app =>
                {
                    seen = app.Properties["host.Addresses"];
                    app.Run(c => c.Response.WriteAsync("ok"));
                }),
                ["host_addresses"] = given,
            });

        Assert.That(seen, Is.SameAs(given));
    }

    [Test]
    public void HostAddressesNameHttpsForTlsInterfacesAndBracketIPv6()
    {
        var key = Path.GetTempFileName();
        var cert = Path.GetTempFileName();
        try
        {
            var addresses = HostAddresses.Of([new ListenInterface("::1", 8443, key, cert), new ListenInterface("::", 80), new ListenInterface("localhost", 8080)], "");
            Assert.That(addresses.Select(a => $"{a["scheme"]}://{a["host"]}:{a["port"]}{a["path"]}"),
                Is.EqualTo(new[] { "https://[::1]:8443", "http://*:80", "http://localhost:8080" }));
        }
        finally
        {
            File.Delete(key);
            File.Delete(cert);
        }
    }

    [Test]
    public void WebAppStartServesAndDisposeStops()
    {
        IPEndPoint endPoint;
        using (var app = WebApp.Start("http://127.0.0.1:0/", a => a.Run(c => c.Response.WriteAsync("web app"))))
        {
            endPoint = ((RunningWebApp)app).Server.BoundEndPoints[0];
            Assert.That(Fetch(endPoint, "/").BodyText, Is.EqualTo("web app"));
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<SocketException>(() => socket.Connect(endPoint));
    }

    [Test]
    public void WebAppStartOfAStartupClassUsesItsConfiguration()
    {
        using var app = WebApp.Start<AppLoadingTests.InProcessStartup>(new StartOptions("http://localhost:0"));

        Assert.That(Fetch(((RunningWebApp)app).Server.BoundEndPoints[0], "/").BodyText, Is.EqualTo("in-process"));
    }

    [Test]
    public void AUrlPathBecomesThePathBase()
    {
        using var app = WebApp.Start("http://127.0.0.1:0/app/", a => a.Run(c => c.Response.WriteAsync(c.Request.PathBase.Value + "|" + c.Request.Path.Value)));
        var endPoint = ((RunningWebApp)app).Server.BoundEndPoints[0];

        Assert.That(Fetch(endPoint, "/app/x").BodyText, Is.EqualTo("/app|/x"));
        Assert.That(Fetch(endPoint, "/other").StatusCode, Is.EqualTo(404));
    }

    [TestCase("http://+:8080/", "http", "+", 8080, "")]
    [TestCase("http://*:8080", "http", "*", 8080, "")]
    [TestCase("https://localhost/app/", "https", "localhost", 443, "/app")]
    [TestCase("http://[::1]:9000/a/b", "http", "::1", 9000, "/a/b")]
    public void KatanaUrlsAreParsed(string url, string scheme, string host, int port, string path)
        => Assert.That(WebAppHost.ParseUrl(url), Is.EqualTo((scheme, host, port, path)));

    [Test]
    public void PlusStarAndLocalhostMapToAddresses()
    {
        Assert.That(WebAppHost.Resolve("+"), Is.EqualTo(new[] { IPAddress.Any }));
        Assert.That(WebAppHost.Resolve("*"), Is.EqualTo(new[] { IPAddress.Any }));
        Assert.That(WebAppHost.Resolve("localhost"), Is.EqualTo(new[] { IPAddress.Loopback }));
    }

    [Test]
    public void AnHttpsUrlWithoutCertificatesIsRefusedClearly()
    {
        var e = Assert.Throws<ArgumentException>(() => WebApp.Start("https://127.0.0.1:0/", a => { }).Dispose());

        Assert.That(e!.Message, Does.Contain("key_file").And.Contain("certificate_file"));
    }

    [Test]
    public void OwinServerFactoryFollowsKatanasConvention()
    {
        var properties = new Dictionary<string, object>();
        OwinServerFactory.Initialize(properties);
        ((IList<IDictionary<string, object>>)properties["host.Addresses"]).Add(new Dictionary<string, object>
        {
            ["scheme"] = "http",
            ["host"] = "127.0.0.1",
            ["port"] = "0",
            ["path"] = "",
        });
        AppFunc app = env => OwinTestSupport.Text(env, "factory");

        using var server = OwinServerFactory.Create(app, properties);

        Assert.That(((IDictionary<string, object>)properties["server.Capabilities"])["server.Name"], Is.EqualTo("Rocket.Owin"));
        Assert.That(Fetch(((RunningWebApp)server).Server.BoundEndPoints[0], "/").BodyText, Is.EqualTo("factory"));
    }

    private static RawResponse Fetch(IPEndPoint endPoint, string target)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, endPoint.Port));
        client.Send($"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        return client.ReadResponse();
    }
}
