using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RocketOwin.Methods.Static;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Static;

/// <summary>Over HTTPS the body goes through the core's pooled-buffer copy instead of sendfile: same bytes, same ranges.</summary>
public class StaticTlsTests
{
    private StaticSite _site = null!;
    private TestServer _server = null!;
    private byte[] _large = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _site = new StaticSite();
        _large = new byte[(2 * 1024 * 1024) + 17];
        new Random(7).NextBytes(_large);
        _site.Write("large.bin", _large);
        _site.Write("small.txt", "small over tls");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var key = Path.Combine(_site.Base, "key.pem");
        var cert = Path.Combine(_site.Base, "cert.pem");
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        _server = new TestServer(new StaticWorker(), new AppInfo { ["document_root"] = _site.Root }, interfaces: [("127.0.0.1", 0, key, cert)]);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _server.Dispose();
        _site.Dispose();
    }

    [Test]
    public void LargeFileAndRangeAndSmallFileComeBackWholeOverTls()
    {
        using var tcp = new TcpClient();
        tcp.Connect(_server.EndPoint);
        tcp.ReceiveTimeout = tcp.SendTimeout = 10_000;
        using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        ssl.AuthenticateAsClient("localhost");
        ssl.Write(Encoding.ASCII.GetBytes(
            "GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /large.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-1000099\r\n\r\n"
            + "GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

        var (status1, body1) = ReadResponse(ssl);
        var (status2, body2) = ReadResponse(ssl);
        var (status3, body3) = ReadResponse(ssl);

        Assert.That(status1, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(body1, Is.EqualTo(_large));
        Assert.That(status2, Is.EqualTo("HTTP/1.1 206 Partial Content"));
        Assert.That(body2, Is.EqualTo(_large[1000000..1000100]));
        Assert.That(status3, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(Encoding.ASCII.GetString(body3), Is.EqualTo("small over tls"));
    }

    private static (string Status, byte[] Body) ReadResponse(Stream stream)
    {
        var status = ReadLine(stream);
        var length = 0;
        string line;
        while ((line = ReadLine(stream)).Length > 0)
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim());
            }
        }

        var body = new byte[length];
        stream.ReadExactly(body);
        return (status, body);
    }

    private static string ReadLine(Stream stream)
    {
        var line = new StringBuilder();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n')
        {
            if (b != '\r')
            {
                line.Append((char)b);
            }
        }

        return line.ToString();
    }
}
