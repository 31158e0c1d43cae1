using System.Net;

namespace RocketOwin.Tests.Unit;

public class ListenInterfaceTests
{
    [Test]
    public void TupleConvertsToAPlainInterface()
    {
        ListenInterface i = ("127.0.0.1", 8080);
        Assert.That(i.Address, Is.EqualTo("127.0.0.1"));
        Assert.That(i.Port, Is.EqualTo(8080));
        Assert.That(i.IPAddress, Is.EqualTo(IPAddress.Loopback));
        Assert.That(i.IsSecure, Is.False);
        Assert.That(i.KeyFile, Is.Null);
        Assert.That(i.ToString(), Is.EqualTo("127.0.0.1:8080"));
    }

    [Test]
    public void FourTupleConvertsToAnHttpsInterface()
    {
        ListenInterface i = ("::", 443, "key.pem", "cert.pem");
        Assert.That(i.IPAddress, Is.EqualTo(IPAddress.IPv6Any));
        Assert.That(i.IsSecure, Is.True);
        Assert.That(i.KeyFile, Is.EqualTo("key.pem"));
        Assert.That(i.CertificateFile, Is.EqualTo("cert.pem"));
        Assert.That(i.ToString(), Is.EqualTo("[::]:443 (https)"));
    }

    [Test]
    public void ConstructorAcceptsLocalhostAndBracketedIPv6()
    {
        Assert.That(new ListenInterface("localhost", 1).IPAddress, Is.EqualTo(IPAddress.Loopback));
        Assert.That(new ListenInterface("[::1]", 1).IPAddress, Is.EqualTo(IPAddress.IPv6Loopback));
    }

    [Test]
    public void ConstructorNamesABadAddress()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = new ListenInterface("example.com", 80))!;
        Assert.That(e.Message, Does.Contain("'example.com'"));
    }

    [TestCase(-1)]
    [TestCase(65536)]
    public void ConstructorNamesABadPort(int port)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ListenInterface("0.0.0.0", port))!;
        Assert.That(e.Message, Does.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void ConstructorRefusesAKeyWithoutACertificate()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = new ListenInterface("0.0.0.0", 443, "key.pem", null))!;
        Assert.That(e.Message, Does.Contain("key.pem").And.Contain("both"));
        Assert.Throws<ArgumentException>(() => _ = new ListenInterface("0.0.0.0", 443, null, "cert.pem"));
    }

    [Test]
    public void ParseReadsAddressPortAndOptionalFiles()
    {
        var plain = ListenInterface.Parse("0.0.0.0:80");
        Assert.That((plain.IPAddress, plain.Port, plain.IsSecure), Is.EqualTo((IPAddress.Any, 80, false)));

        var v6 = ListenInterface.Parse("[::1]:8443,key.pem, cert.pem");
        Assert.That((v6.IPAddress, v6.Port), Is.EqualTo((IPAddress.IPv6Loopback, 8443)));
        Assert.That((v6.KeyFile, v6.CertificateFile), Is.EqualTo(("key.pem", "cert.pem")));
        Assert.That(ListenInterface.Parse("[::]:80").IPAddress, Is.EqualTo(IPAddress.IPv6Any));
    }

    [TestCase("8080")]
    [TestCase(":8080")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.1:http")]
    [TestCase("127.0.0.1:99999")]
    [TestCase("nohost:80")]
    [TestCase("127.0.0.1:443,key.pem")]
    public void ParseNamesTheTextWhenItIsMalformed(string text)
    {
        var e = Assert.Throws<FormatException>(() => ListenInterface.Parse(text))!;
        Assert.That(e.Message, Does.Contain($"'{text}'"));
    }

    [Test]
    public void InterfacesWithTheSameValuesAreEqual()
        => Assert.That(new ListenInterface("127.0.0.1", 1), Is.EqualTo((ListenInterface)("127.0.0.1", 1)));
}
