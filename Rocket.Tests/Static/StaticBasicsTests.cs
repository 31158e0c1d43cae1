using System.Reflection;
using RocketOwin.Methods.Static;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Static;

public class StaticBasicsTests
{
    [Test]
    public void GetAnswersTheFileWithTypeLengthValidatorsAndAcceptRanges()
    {
        using var site = new StaticSite();
        var path = site.Write("hello.txt", "Hello, static!");
        File.SetLastWriteTimeUtc(path, new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        site.Start();

        var response = site.Request("/hello.txt");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("Hello, static!"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/plain; charset=utf-8"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("14"));
        Assert.That(response.Header("Last-Modified"), Is.EqualTo("Mon, 06 May 2024 07:08:09 GMT"));
        Assert.That(response.Header("ETag"), Does.Match("^\"[0-9a-f]+-e\"$"));
        Assert.That(response.Header("Accept-Ranges"), Is.EqualTo("bytes"));
        Assert.That(response.Header("Cache-Control"), Is.Null);
    }

    [Test]
    public void HeadAnswersTheSameHeadersWithoutABody()
    {
        using var site = new StaticSite();
        site.Write("page.html", "<p>hi</p>");
        site.Start();
        using var client = site.Server.Connect();
        client.Send("HEAD /page.html HTTP/1.1\r\nHost: x\r\n\r\nGET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        var head = client.ReadResponse(headRequest: true);
        var get = client.ReadResponse();

        Assert.That(head.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(head.Header("Content-Length"), Is.EqualTo("9"));
        Assert.That(head.Header("Content-Type"), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(head.Header("ETag"), Is.EqualTo(get.Header("ETag")));
        Assert.That(get.BodyText, Is.EqualTo("<p>hi</p>"), "the HEAD response carried no body bytes, so the next response parses cleanly");
    }

    [TestCase("POST")]
    [TestCase("PUT")]
    [TestCase("DELETE")]
    [TestCase("OPTIONS")]
    public void OtherMethodsGet405WithAllow(string method)
    {
        using var site = new StaticSite();
        site.Write("a.txt", "a");
        site.Start();

        var response = site.Request("/a.txt", method, "Content-Length: 0");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 405 Method Not Allowed"));
        Assert.That(response.Header("Allow"), Is.EqualTo("GET, HEAD"));
    }

    [TestCase("app.js", "text/javascript; charset=utf-8")]
    [TestCase("mod.mjs", "text/javascript; charset=utf-8")]
    [TestCase("style.css", "text/css; charset=utf-8")]
    [TestCase("data.json", "application/json; charset=utf-8")]
    [TestCase("logo.svg", "image/svg+xml; charset=utf-8")]
    [TestCase("photo.JPG", "image/jpeg")]
    [TestCase("img.webp", "image/webp")]
    [TestCase("img.avif", "image/avif")]
    [TestCase("font.woff2", "font/woff2")]
    [TestCase("app.wasm", "application/wasm")]
    [TestCase("clip.mp4", "video/mp4")]
    [TestCase("doc.pdf", "application/pdf")]
    [TestCase("archive.gz", "application/gzip")]
    [TestCase("noextension", "application/octet-stream")]
    [TestCase("unknown.zzq", "application/octet-stream")]
    public void ContentTypeComesFromTheExtension(string name, string expected)
    {
        using var site = new StaticSite();
        site.Write(name, "x");
        site.Start();

        Assert.That(site.Request("/" + name).Header("Content-Type"), Is.EqualTo(expected));
    }

    [Test]
    public void MimeTypesFileAndAppInfoEntriesExtendTheTable()
    {
        using var site = new StaticSite();
        var mimeFile = Path.Combine(site.Base, "mime.types");
        File.WriteAllText(mimeFile, "# comment\napplication/x-rocket\t\trkt rkx\ntext/x-fancy  fancy\n\nimage/png png # override-free\n");
        site.Write("a.rkt", "x");
        site.Write("b.fancy", "x");
        site.Write("c.custom", "x");
        site.Write("d.other", "x");
        site.Write("e.rkx", "x");
        site.Start(("mime_types", mimeFile), ("mime_map", "custom=application/x-custom, other=text/x-other"), ("mime.rkx", "application/x-overridden"));

        Assert.That(site.Request("/a.rkt").Header("Content-Type"), Is.EqualTo("application/x-rocket"));
        Assert.That(site.Request("/b.fancy").Header("Content-Type"), Is.EqualTo("text/x-fancy; charset=utf-8"));
        Assert.That(site.Request("/c.custom").Header("Content-Type"), Is.EqualTo("application/x-custom"));
        Assert.That(site.Request("/d.other").Header("Content-Type"), Is.EqualTo("text/x-other; charset=utf-8"));
        Assert.That(site.Request("/e.rkx").Header("Content-Type"), Is.EqualTo("application/x-overridden"), "appInfo wins over the file");
    }

    [Test]
    public void CacheControlIsSentWhenConfigured()
    {
        using var site = new StaticSite();
        site.Write("a.css", "body{}");
        site.Start(("cache_control", "public, max-age=3600"));

        Assert.That(site.Request("/a.css").Header("Cache-Control"), Is.EqualTo("public, max-age=3600"));
    }

    [Test]
    public void MissingFileIs404()
    {
        using var site = new StaticSite();
        site.Start();

        Assert.That(site.Request("/nope.txt").StatusLine, Is.EqualTo("HTTP/1.1 404 Not Found"));
        Assert.That(site.Request("/nope/deeper.txt").StatusLine, Is.EqualTo("HTTP/1.1 404 Not Found"));
    }

    [Test]
    public void KeepAliveConnectionServesMemoryAndSendfileResponsesInOrder()
    {
        using var site = new StaticSite();
        var large = new byte[3 * 1024 * 1024];
        new Random(5).NextBytes(large);
        site.Write("small.txt", "small");
        site.Write("large.bin", large);
        site.Write("medium.bin", large[..(40 * 1024)]);
        site.Start();
        using var client = site.Server.Connect();
        client.Send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /large.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-1999\r\n\r\nGET /medium.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-30000\r\n\r\n");

        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("small"));
        Assert.That(client.ReadResponse().Body, Is.EqualTo(large));
        Assert.That(client.ReadResponse().Body, Is.EqualTo(large[..(40 * 1024)]), "from memory, past the response buffer");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("small"));
        Assert.That(client.ReadResponse().Body, Is.EqualTo(large[1000..2000]));
        Assert.That(client.ReadResponse().Body, Is.EqualTo(large[100..30001]));
    }

    [Test]
    public void FileNamedAsADirectoryIs404()
    {
        using var site = new StaticSite();
        site.Write("hello.txt", "x");
        site.Start();

        Assert.That(site.Request("/hello.txt/").StatusCode, Is.EqualTo(404));
    }

    [Test]
    public void PercentEncodedNamesAreDecodedOnce()
    {
        using var site = new StaticSite();
        site.Write("a b ü.txt", "spaced");
        site.Write("100%.txt", "percent");
        site.Start();

        Assert.That(site.Request("/a%20b%20%C3%BC.txt").BodyText, Is.EqualTo("spaced"));
        Assert.That(site.Request("/100%25.txt").BodyText, Is.EqualTo("percent"));
    }

    [Test]
    public void ChangedFileIsServedFreshWhenTheCacheTtlIsZero()
    {
        using var site = new StaticSite();
        var path = site.Write("v.txt", "one");
        File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        site.Start(("cache_ttl", "0"));
        var first = site.Request("/v.txt");

        File.WriteAllText(path, "second");
        File.SetLastWriteTimeUtc(path, new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var second = site.Request("/v.txt");

        Assert.That(first.BodyText, Is.EqualTo("one"));
        Assert.That(second.BodyText, Is.EqualTo("second"));
        Assert.That(second.Header("ETag"), Is.Not.EqualTo(first.Header("ETag")));
    }

    [Test]
    public void MissingDocumentRootFailsStartWithAMessageNamingTheKey()
    {
        var worker = new StaticWorker();
        var e = Assert.Catch(() => new TestServer(worker, new AppInfo()).Dispose());
        Assert.That(e!.ToString(), Does.Contain("document_root"));
    }

    [Test]
    public void DocumentRootThatIsNotADirectoryFailsStart()
    {
        using var site = new StaticSite();
        var file = site.Write("file.txt", "x");
        var e = Assert.Catch(() => new TestServer(new StaticWorker(), new AppInfo { ["document_root"] = file }).Dispose());
        Assert.That(e!.ToString(), Does.Contain("document_root").And.Contain("directory"));
    }

    [Test]
    public void InvalidSettingsFailStartNamingTheKey()
    {
        using var site = new StaticSite();
        var e = Assert.Catch(() => new TestServer(new StaticWorker(), new AppInfo { ["document_root"] = site.Root, ["display_index"] = "maybe" }).Dispose());
        Assert.That(e!.ToString(), Does.Contain("display_index"));
    }

    [Test]
    public void AssemblyDeclaresStaticWithRocketsFsAlias()
    {
        var declaration = typeof(StaticWorker).Assembly.GetCustomAttributes<RocketMethodAttribute>().Single();
        Assert.That(declaration.Name, Is.EqualTo("static"));
        Assert.That(declaration.Aliases, Is.EqualTo(new[] { "fs" }));
        Assert.That(declaration.WorkerType, Is.EqualTo(typeof(StaticWorker)));
    }
}
