namespace RocketOwin.Tests.Static;

public class StaticDirectoryTests
{
    [Test]
    public void DirectoryWithoutTrailingSlashRedirectsToTheSlashFormKeepingTheQuery()
    {
        using var site = new StaticSite();
        site.Write("docs/index.html", "docs");
        site.Start();

        var plain = site.Request("/docs");
        var query = site.Request("/docs?x=1&y=%20");
        var doubled = site.Request("//docs");

        Assert.That(plain.StatusLine, Is.EqualTo("HTTP/1.1 301 Moved Permanently"));
        Assert.That(plain.Header("Location"), Is.EqualTo("/docs/"));
        Assert.That(query.Header("Location"), Is.EqualTo("/docs/?x=1&y=%20"));
        Assert.That(doubled.Header("Location"), Is.EqualTo("/docs/"), "never //docs/, a protocol-relative URL");
    }

    [Test]
    public void DirectoryServesItsIndexFile()
    {
        using var site = new StaticSite();
        site.Write("index.html", "<h1>home</h1>");
        site.Write("docs/index.html", "docs home");
        site.Start();

        var root = site.Request("/");
        var docs = site.Request("/docs/");

        Assert.That(root.BodyText, Is.EqualTo("<h1>home</h1>"));
        Assert.That(root.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(docs.BodyText, Is.EqualTo("docs home"));
    }

    [Test]
    public void IndexFilesAreConfigurableAndTriedInOrder()
    {
        using var site = new StaticSite();
        site.Write("a/default.htm", "second choice");
        site.Write("b/home.txt", "first choice");
        site.Write("b/default.htm", "second choice");
        site.Start(("index_files", "home.txt, default.htm"));

        Assert.That(site.Request("/a/").BodyText, Is.EqualTo("second choice"));
        Assert.That(site.Request("/b/").BodyText, Is.EqualTo("first choice"));
        Assert.That(site.Request("/b/").Header("Content-Type"), Is.EqualTo("text/plain; charset=utf-8"));
    }

    [Test]
    public void DirectoryWithoutIndexIs403WhenDisplayIndexIsOff()
    {
        using var site = new StaticSite();
        site.Write("files/a.txt", "a");
        site.Start();

        Assert.That(site.Request("/files/").StatusLine, Is.EqualTo("HTTP/1.1 403 Forbidden"));
    }

    [Test]
    public void ListingIsSortedWithSizesDatesAndAParentLink()
    {
        using var site = new StaticSite();
        site.Write("files/b.txt", "bb");
        site.Write("files/a.txt", "a");
        site.Write("files/zdir/x.txt", "x");
        site.Write("files/.secret", "s");
        File.SetLastWriteTimeUtc(Path.Combine(site.Root, "files", "a.txt"), new DateTime(2023, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        site.Start(("display_index", "true"));

        var response = site.Request("/files/");
        var html = response.BodyText;

        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(html, Does.Contain("<title>Index of /files/</title>"));
        Assert.That(html, Does.Contain("<a href=\"../\">../</a>"));
        Assert.That(html, Does.Contain("<a href=\"./a.txt\">a.txt</a></td><td class=\"size\">1</td><td>2023-03-04 05:06:07</td>"));
        Assert.That(html.IndexOf("zdir/", StringComparison.Ordinal), Is.LessThan(html.IndexOf("a.txt", StringComparison.Ordinal)), "directories first");
        Assert.That(html.IndexOf("a.txt", StringComparison.Ordinal), Is.LessThan(html.IndexOf("b.txt", StringComparison.Ordinal)));
        Assert.That(html, Does.Not.Contain(".secret"));
    }

    [Test]
    public void RootListingHasNoParentLink()
    {
        using var site = new StaticSite();
        site.Write("a.txt", "a");
        site.Start(("display_index", true));

        Assert.That(site.Request("/").BodyText, Does.Not.Contain("../"));
    }

    [Test]
    public void ListingEscapesEveryNameForHtmlAndForTheLink()
    {
        using var site = new StaticSite();
        site.Write("d/<script>alert(1)<script>.txt", "x");
        site.Write("d/a\"b&c d.txt", "y");
        site.Write("d/ü#?.txt", "z");
        site.Start(("display_index", true));

        var html = site.Request("/d/").BodyText;

        Assert.That(html, Does.Not.Contain("<script>"));
        Assert.That(html, Does.Contain("<a href=\"./%3Cscript%3Ealert%281%29%3Cscript%3E.txt\">&lt;script&gt;alert(1)&lt;script&gt;.txt</a>"));
        Assert.That(html, Does.Contain("<a href=\"./a%22b%26c%20d.txt\">a&quot;b&amp;c d.txt</a>"));
        Assert.That(html, Does.Contain("<a href=\"./%C3%BC%23%3F.txt\">ü#?.txt</a>"));
        Assert.That(site.Request("/d/%C3%BC%23%3F.txt").BodyText, Is.EqualTo("z"), "the link leads to the file");
    }

    [Test]
    public void ListingOmitsSymlinksLeadingOutOfTheRoot()
    {
        using var site = new StaticSite();
        site.Write("d/in.txt", "in");
        File.CreateSymbolicLink(Path.Combine(site.Root, "d", "out.txt"), Path.Combine(site.Base, "secret.txt"));
        site.Start(("display_index", true));

        var html = site.Request("/d/").BodyText;

        Assert.That(html, Does.Contain("in.txt"));
        Assert.That(html, Does.Not.Contain("out.txt"));
    }
}
