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

    [Test]
    public void ATlsClientThatNeverSendsItsClientHelloIsCutAfterTheHandshakeTimeout()
        => AssertCutAfterHandshakeTimeout([]);

    [Test]
    public void ATlsClientThatStopsInTheMiddleOfItsClientHelloIsCutAfterTheHandshakeTimeout()
        => AssertCutAfterHandshakeTimeout([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]); // a handshake record of 512 bytes, 1 sent

    private static void AssertCutAfterHandshakeTimeout(byte[] sent)
    {
        using var certificates = new TestCertificates();
        using var server = new TestServer(
            Apps.Hello(),
            limits: new ServerLimits { TlsHandshakeTimeout = TimeSpan.FromSeconds(1) },
            interfaces: [("127.0.0.1", 0, certificates.KeyFile, certificates.CertificateFile)]);
        using var client = new RawClient(server.EndPoint, timeoutMs: 20_000);
        var started = System.Diagnostics.Stopwatch.StartNew();
        client.Send(sent);

        // The monitor sweeps once a second: cut between the timeout and a few sweeps later (generous: a loaded machine).
        Assert.That(Wire.ServerClosed(client), Is.True, "the server ended the connection within the client's 20 s");
        Assert.That(started.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(15)));
        Assert.That(Wire.WaitUntil(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True, "the connection left the server's table");
    }
}
