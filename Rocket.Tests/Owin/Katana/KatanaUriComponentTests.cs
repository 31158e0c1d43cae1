using Microsoft.Owin;

namespace RocketOwin.Tests.Owin.Katana;

/// <summary>PathString, QueryString, HostString and OwinRequest.Uri escape as Katana's did.</summary>
public class KatanaUriComponentTests
{
    [TestCase("/a b/c#d", "/a%20b/c%23d")]
    [TestCase("/!$&'()*+,;=:@-._~", "/!$&'()*+,;=:@-._~")]
    [TestCase("/already%2Fescaped%20", "/already%2Fescaped%20")]
    [TestCase("/100%", "/100%25")]
    [TestCase("/%zz", "/%25zz")]
    [TestCase("/q?x[1]", "/q%3Fx%5B1%5D")]
    [TestCase("/ü", "/%C3%BC")]
    public void PathToUriComponentKeepsPathCharactersAndExistingEscapes(string path, string expected)
        => Assert.That(new PathString(path).ToUriComponent(), Is.EqualTo(expected));

    [Test]
    public void QueryToUriComponentEscapesAHashSoItCannotStartAFragment()
        => Assert.That(new QueryString("a=1#2").ToUriComponent(), Is.EqualTo("?a=1%232"));

    [Test]
    public void QueryFromUriComponentRequiresTheQuestionMark()
    {
        Assert.Throws<ArgumentException>(() => QueryString.FromUriComponent("one=two"));
        Assert.That(QueryString.FromUriComponent("?one=two").Value, Is.EqualTo("one=two"));
        Assert.That(QueryString.FromUriComponent(string.Empty), Is.EqualTo(QueryString.Empty));
    }

    [TestCase("::1", "[::1]")]
    [TestCase("fe80::1%4", "[fe80::1%4]")]
    [TestCase("[::1]:8080", "[::1]:8080")]
    [TestCase("localhost:8080", "localhost:8080")]
    public void HostToUriComponentBracketsABareIPv6Address(string host, string expected)
        => Assert.That(new HostString(host).ToUriComponent(), Is.EqualTo(expected));

    [Test]
    public void RequestUriIsBuiltFromTheEscapedParts()
    {
        var context = new OwinContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("::1");
        context.Request.PathBase = new PathString("/base");
        context.Request.Path = new PathString("/a b;c=d");
        context.Request.QueryString = new QueryString("x=1#frag");

        Assert.That(context.Request.Uri.AbsoluteUri, Is.EqualTo("http://[::1]/base/a%20b;c=d?x=1%23frag"));
    }
}
