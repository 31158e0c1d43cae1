using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Methods.Owin;
using RocketOwin.Methods.Owin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Owin.Katana;

using AppFunc = Func<IDictionary<string, object>, Task>;

/// <summary>OwinServerFactory takes what Katana's server factories took: several prefixes on one port, https, no addresses.</summary>
public class KatanaServerFactoryTests
{
    private static readonly AppFunc Echo = env => OwinTestSupport.Text(env, $"{env["owin.RequestPathBase"]}|{env["owin.RequestPath"]}");

    private static Dictionary<string, object> Address(string scheme, string path, string port = "0") => new()
    {
        ["scheme"] = scheme,
        ["host"] = "127.0.0.1",
        ["port"] = port,
        ["path"] = path,
    };

    [Test]
    public void SeveralPathsOnOnePortEachBecomeAPathBase()
    {
        var properties = new Dictionary<string, object>();
        OwinServerFactory.Initialize(properties);
        var addresses = (IList<IDictionary<string, object>>)properties["host.Addresses"];
        addresses.Add(Address("http", "/one"));
        addresses.Add(Address("http", "/one/two"));
        addresses.Add(Address("http", "/three"));

        using var server = OwinServerFactory.Create(Echo, properties);

        var bound = ((RunningWebApp)server).Server.BoundEndPoints;
        Assert.That(bound, Has.Count.EqualTo(1));
        Assert.That(addresses.Select(a => a["port"]), Is.All.EqualTo(bound[0].Port.ToString()));
        Assert.That(Fetch(bound[0], "/one/x").BodyText, Is.EqualTo("/one|/x"));
        Assert.That(Fetch(bound[0], "/ONE/two/y").BodyText, Is.EqualTo("/ONE/two|/y"));
        Assert.That(Fetch(bound[0], "/three").BodyText, Is.EqualTo("/three|"));
        Assert.That(Fetch(bound[0], "/four").StatusCode, Is.EqualTo(404));
    }

    [Test]
    public void AnHttpsAddressTakesItsKeyAndCertificate()
    {
        using var certificates = new TestCertificates();
        var address = Address("https", "/secure");
        address["key_file"] = certificates.KeyFile;
        address["certificate_file"] = certificates.CertificateFile;
        var properties = new Dictionary<string, object> { ["host.Addresses"] = new List<IDictionary<string, object>> { address } };

        using var server = OwinServerFactory.Create(env => OwinTestSupport.Text(env, (string)env["owin.RequestScheme"]), properties);

        var port = ((RunningWebApp)server).Server.BoundEndPoints[0].Port;
        using var tcp = new TcpClient("127.0.0.1", port);
        using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        tls.AuthenticateAsClient("localhost");
        tls.Write(Encoding.ASCII.GetBytes("GET /secure/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(tls);
        var response = reader.ReadToEnd();
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK").And.EndWith("https"));
    }

    [Test]
    public void AnHttpsAddressWithoutItsFilesIsRefusedByName()
    {
        var properties = new Dictionary<string, object> { ["host.Addresses"] = new List<IDictionary<string, object>> { Address("https", string.Empty) } };

        var e = Assert.Throws<ArgumentException>(() => OwinServerFactory.Create(Echo, properties).Dispose());

        Assert.That(e!.Message, Does.Contain("key_file"));
    }

    [Test]
    public void EmptyPropertiesServeNowhereAndDisposeCleanly()
    {
        var properties = new Dictionary<string, object>();

        var server = OwinServerFactory.Create(Echo, properties);

        Assert.That(server, Is.Not.Null);
        server.Dispose();
        OwinServerFactory.Initialize(properties);
        Assert.That(properties["owin.Version"], Is.EqualTo("1.0"));
        OwinServerFactory.Create(Echo, properties).Dispose();
    }

    private static RawResponse Fetch(IPEndPoint endPoint, string target)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, endPoint.Port));
        client.Send($"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        return client.ReadResponse();
    }
}
