using Microsoft.Owin;

namespace RocketOwin.Tests.Owin;

public class PathStringTests
{
    [Test]
    public void PathStringRequiresALeadingSlash()
        => Assert.Throws<ArgumentException>(() => _ = new PathString("api"));

    [Test]
    public void PathStringMatchesWholeSegmentsIgnoringCase()
    {
        var path = new PathString("/API/items");

        Assert.That(path.StartsWithSegments(new PathString("/api"), out var rest), Is.True);
        Assert.That(rest.Value, Is.EqualTo("/items"));
        Assert.That(path.StartsWithSegments(new PathString("/ap")), Is.False);
        Assert.That(new PathString("/a") == new PathString("/A"), Is.True);
    }

    [Test]
    public void PathStringEscapesForUrisAndUnescapesFromThem()
    {
        Assert.That(new PathString("/a b/c#").ToUriComponent(), Is.EqualTo("/a%20b/c%23"));
        Assert.That(PathString.FromUriComponent("/a%20b").Value, Is.EqualTo("/a b"));
        Assert.That((new PathString("/a") + new PathString("/b")).Value, Is.EqualTo("/a/b"));
        Assert.That(new PathString("/a") + new QueryString("x=1"), Is.EqualTo("/a?x=1"));
    }

    [Test]
    public void QueryStringAddsTheQuestionMarkOnlyWhenThereIsAQuery()
    {
        Assert.That(new QueryString("a=1").ToString(), Is.EqualTo("?a=1"));
        Assert.That(QueryString.Empty.ToString(), Is.EqualTo(""));
        Assert.That(QueryString.Create("a b", "c&d").Value, Is.EqualTo("a%20b=c%26d"));
        Assert.That(QueryString.FromUriComponent("?x=1").Value, Is.EqualTo("x=1"));
    }

    [Test]
    public void HostStringConvertsInternationalNamesToPunycode()
    {
        Assert.That(new HostString("bücher.example:8080").ToUriComponent(), Is.EqualTo("xn--bcher-kva.example:8080"));
        Assert.That(HostString.FromUriComponent("xn--bcher-kva.example:8080").Value, Is.EqualTo("bücher.example:8080"));
        Assert.That(new HostString("[::1]:80").ToUriComponent(), Is.EqualTo("[::1]:80"));
    }
}
