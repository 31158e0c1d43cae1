namespace RocketOwin.Tests.Static;

/// <summary>precompressed: file.br / file.gz served as nginx's gzip_static does.</summary>
public class StaticPrecompressedTests
{
    private static readonly DateTime Original = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Test]
    public void GzipSiblingIsServedToClientsThatAcceptGzip()
    {
        using var site = Site(gz: Original.AddMinutes(1), br: null);

        var response = site.Request("/app.js", "GET", "Accept-Encoding: gzip, deflate");

        Assert.That(response.BodyText, Is.EqualTo("GZ-BYTES"));
        Assert.That(response.Header("Content-Encoding"), Is.EqualTo("gzip"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/javascript; charset=utf-8"));
        Assert.That(response.Header("Vary"), Is.EqualTo("Accept-Encoding"));
        Assert.That(response.Header("ETag"), Does.EndWith("-gzip\""));
    }

    [Test]
    public void BrotliIsPreferredWhenBothAreAccepted()
    {
        using var site = Site(gz: Original, br: Original);

        var response = site.Request("/app.js", "GET", "Accept-Encoding: gzip, br");

        Assert.That(response.BodyText, Is.EqualTo("BR-BYTES"));
        Assert.That(response.Header("Content-Encoding"), Is.EqualTo("br"));
    }

    [Test]
    public void ClientsWithoutAcceptEncodingGetTheFileWithVary()
    {
        using var site = Site(gz: Original, br: Original);

        var plain = site.Request("/app.js");
        var refused = site.Request("/app.js", "GET", "Accept-Encoding: br;q=0, gzip;q=0");

        Assert.That(plain.BodyText, Is.EqualTo("console.log(1)"));
        Assert.That(plain.Header("Content-Encoding"), Is.Null);
        Assert.That(plain.Header("Vary"), Is.EqualTo("Accept-Encoding"));
        Assert.That(refused.BodyText, Is.EqualTo("console.log(1)"));
    }

    [Test]
    public void SiblingOlderThanTheFileIsIgnored()
    {
        using var site = Site(gz: Original.AddMinutes(-5), br: null);

        var response = site.Request("/app.js", "GET", "Accept-Encoding: gzip");

        Assert.That(response.BodyText, Is.EqualTo("console.log(1)"));
        Assert.That(response.Header("Content-Encoding"), Is.Null);
    }

    [Test]
    public void SiblingsAreIgnoredWhenPrecompressedIsOff()
    {
        using var site = new StaticSite();
        site.Write("app.js", "console.log(1)");
        site.Write("app.js.gz", "GZ-BYTES");
        site.Start();

        var response = site.Request("/app.js", "GET", "Accept-Encoding: gzip");

        Assert.That(response.BodyText, Is.EqualTo("console.log(1)"));
        Assert.That(response.Header("Vary"), Is.Null);
    }

    private static StaticSite Site(DateTime? gz, DateTime? br)
    {
        var site = new StaticSite();
        File.SetLastWriteTimeUtc(site.Write("app.js", "console.log(1)"), Original);
        if (gz is { } gzTime)
        {
            File.SetLastWriteTimeUtc(site.Write("app.js.gz", "GZ-BYTES"), gzTime);
        }

        if (br is { } brTime)
        {
            File.SetLastWriteTimeUtc(site.Write("app.js.br", "BR-BYTES"), brTime);
        }

        return site.Start(("precompressed", true));
    }
}
