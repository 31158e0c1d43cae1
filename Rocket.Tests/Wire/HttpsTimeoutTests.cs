using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

public class HttpsTimeoutTests
{
    [Test]
    public void TlsClientWhoseHeadersStopArrivingGets408AndClose()
    {
        using var certificates = new TestCertificates();
        using var server = new TestServer(
            Apps.Hello(),
            limits: new ServerLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1) },
            interfaces: [("127.0.0.1", 0, certificates.KeyFile, certificates.CertificateFile)]);
        using var tcp = new TcpClient();
        tcp.Connect(server.EndPoint);
        tcp.ReceiveTimeout = 15_000;
        using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        ssl.AuthenticateAsClient("localhost");
        ssl.Write("GET / HTTP/1.1\r\nHost: x\r\n"u8); // the head never ends

        using var reader = new StreamReader(ssl, Encoding.ASCII);
        Assert.That(reader.ReadLine(), Is.EqualTo("HTTP/1.1 408 Request Timeout"));
        string? line;
        while (!string.IsNullOrEmpty(line = reader.ReadLine()))
        {
        }

        Assert.That(reader.ReadToEnd(), Is.Empty, "the connection closes after the 408");
    }
}
