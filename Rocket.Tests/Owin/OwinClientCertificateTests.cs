using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RocketOwin.Methods.Owin;
using RocketOwin.Tests.Support;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace RocketOwin.Tests.Owin;

/// <summary>ssl.ClientCertificate over a real TLS connection, with certificates made at run time.</summary>
public class OwinClientCertificateTests
{
    private DirectoryInfo _dir = null!;
    private Rocket _server = null!;
    private X509Certificate2 _clientCertificate = null!;

    [OneTimeSetUp]
    public void StartHttpsServerThatAsksForClientCertificates()
    {
        TestLogging.EnsureConfigured();
        _ = typeof(OwinWorker); // the method is found among the assemblies loaded in the process
        _dir = Directory.CreateTempSubdirectory("rocket-owin-tls-");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var serverCertificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var key = Path.Combine(_dir.FullName, "key.pem");
        var cert = Path.Combine(_dir.FullName, "cert.pem");
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(cert, serverCertificate.ExportCertificatePem());

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest("CN=rocket-test-client", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var created = clientRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _clientCertificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);

        AppFunc app = env =>
        {
            var certificate = env.TryGetValue("ssl.ClientCertificate", out var value) ? value as X509Certificate : null;
            var text = $"scheme={env["owin.RequestScheme"]} client={certificate?.Subject ?? "none"}";
            var bytes = Encoding.ASCII.GetBytes(text);
            return ((Stream)env["owin.ResponseBody"]).WriteAsync(bytes, 0, bytes.Length);
        };
        _server = new Rocket(("127.0.0.1", 0, key, cert), "owin", new AppInfo { ["owin_app"] = app }, minThreads: 2, handleSignals: false)
        {
            RequestClientCertificate = true,
        };
        _server.Start(background: true);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _server.Stop();
        _clientCertificate.Dispose();
        _dir.Delete(recursive: true);
    }

    [Test]
    public void ClientCertificatePresentedOverTlsIsInTheEnvironment()
    {
        var body = Get(new X509CertificateCollection { _clientCertificate });
        Assert.That(body, Is.EqualTo("scheme=https client=CN=rocket-test-client"));
    }

    [Test]
    public void WithoutAClientCertificateTheKeyIsAbsent()
    {
        var body = Get(null);
        Assert.That(body, Is.EqualTo("scheme=https client=none"));
    }

    private string Get(X509CertificateCollection? clientCertificates)
    {
        using var tcp = new TcpClient();
        tcp.Connect(_server.BoundEndPoints[0]);
        tcp.ReceiveTimeout = tcp.SendTimeout = 10_000;
        using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCertificates,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        ssl.Write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8);
        using var reader = new StreamReader(ssl, Encoding.ASCII);
        var response = reader.ReadToEnd();
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK\r\n"));
        return response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }
}
