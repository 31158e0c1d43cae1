using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RocketOwin.Tests.Support;

/// <summary>A self-signed server certificate made at run time and written as PEM files (no key material in the repository).</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly DirectoryInfo _dir;

    public TestCertificates(string subject = "CN=localhost")
    {
        _dir = Directory.CreateTempSubdirectory("rocket-certs-");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        KeyFile = Path.Combine(_dir.FullName, "key.pem");
        CertificateFile = Path.Combine(_dir.FullName, "cert.pem");
        File.WriteAllText(KeyFile, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
    }

    public string KeyFile { get; }

    public string CertificateFile { get; }

    public void Dispose() => _dir.Delete(recursive: true);
}
