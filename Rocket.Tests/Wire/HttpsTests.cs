using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>HTTPS interfaces, with a self-signed certificate made at run time (no key material in the repository).</summary>
public class HttpsTests
{
    private DirectoryInfo _dir = null!;
    private string _key = null!;
    private string _cert = null!;
    private TestServer _server = null!;
    private string[] _startLogs = [];

    [OneTimeSetUp]
    public void MakeCertificateAndStart()
    {
        _dir = Directory.CreateTempSubdirectory("rocket-tls-");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _key = Path.Combine(_dir.FullName, "key.pem");
        _cert = Path.Combine(_dir.FullName, "cert.pem");
        File.WriteAllText(_key, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_cert, certificate.ExportCertificatePem());

        _server = new TestServer(
            new LambdaWorker(async c =>
            {
                var body = new MemoryStream();
                await c.RequestBody.CopyToAsync(body);
                c.Response.Write(Encoding.ASCII.GetBytes($"secure={c.Connection.IsSecure} tls={c.Connection.TlsProtocol} body={body.Length}"));
            }),
            interfaces: [("127.0.0.1", 0, _key, _cert), ("127.0.0.1", 0)]);
        _startLogs = TestLogging.Memory.Logs.ToArray();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _server.Dispose();
        _dir.Delete(recursive: true);
    }

    private SslStream ConnectTls()
    {
        var tcp = new TcpClient();
        tcp.Connect(_server.Server.BoundEndPoints[0]);
        tcp.ReceiveTimeout = tcp.SendTimeout = 10_000;
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        ssl.AuthenticateAsClient("localhost");
        return ssl;
    }

    private static string Exchange(SslStream ssl, string request)
    {
        ssl.Write(Encoding.ASCII.GetBytes(request));
        var reader = new StreamReader(ssl, Encoding.ASCII);
        var status = reader.ReadLine();
        var length = 0;
        string? line;
        while (!string.IsNullOrEmpty(line = reader.ReadLine()))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim());
            }
        }

        var body = new char[length];
        reader.ReadBlock(body, 0, length);
        return $"{status}|{new string(body)}";
    }

    [Test]
    public void HttpsRequestIsServedOnASecureConnection()
    {
        using var ssl = ConnectTls();
        var result = Exchange(ssl, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        Assert.That(result, Does.StartWith("HTTP/1.1 200 OK|secure=True tls=Tls1").And.EndWith("body=5"));

        // Keep-alive works over TLS too.
        Assert.That(Exchange(ssl, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), Does.StartWith("HTTP/1.1 200 OK|secure=True"));
    }

    [Test]
    public void PlainInterfaceNextToTheHttpsOneIsNotSecure()
    {
        using var client = new RawClient(_server.Server.BoundEndPoints[1]);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("secure=False tls= body=0"));
    }

    [Test]
    public void ASilentClientOnTheTlsPortDoesNotStallOthers()
    {
        using var silent = new TcpClient();
        silent.Connect(_server.Server.BoundEndPoints[0]);
        using var silent2 = new TcpClient();
        silent2.Connect(_server.Server.BoundEndPoints[0]);

        // The silent clients never send a ClientHello; a listener that handshakes inline would block here.
        using var ssl = ConnectTls();
        Assert.That(Exchange(ssl, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), Does.StartWith("HTTP/1.1 200 OK|secure=True"));
    }

    [Test]
    public void PlainHttpOnTheTlsPortGetsACleanBadRequest()
    {
        using var client = new RawClient(_server.Server.BoundEndPoints[0]);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(response.BodyText, Is.EqualTo("This port speaks HTTPS; plain HTTP was refused.\n"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void StartLogsBothInterfacesMarkingTheHttpsOne()
    {
        var endPoints = _server.Server.BoundEndPoints;
        var expected = $"Listening on 127.0.0.1:{endPoints[0].Port} (https), 127.0.0.1:{endPoints[1].Port}";
        Assert.That(_startLogs, Has.Some.StartsWith("INFO Rocket " + expected + " "));
    }
}
