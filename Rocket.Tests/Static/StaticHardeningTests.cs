namespace RocketOwin.Tests.Static;

/// <summary>Files that change under the metadata cache, and listings of large directories.</summary>
public class StaticHardeningTests
{
    [Test]
    public void AFileThatShrinksWithinTheCacheTtlIsAnsweredWithItsNewLength()
    {
        using var site = new StaticSite();
        var full = site.Write("big.bin", new byte[1024 * 1024]);
        site.Start(("cache_ttl", 60));
        Assert.That(site.Request("/big.bin").Body, Has.Length.EqualTo(1024 * 1024));

        // Within the 60 s TTL the cached entry still says 1 MiB; the headers must not promise it.
        File.WriteAllBytes(full, new byte[300 * 1024]);
        var response = site.Request("/big.bin");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo((300 * 1024).ToString()));
        Assert.That(response.Body, Has.Length.EqualTo(300 * 1024));
    }

    [Test]
    public void AFileThatGrowsWithinTheCacheTtlIsAnsweredWholeWithANewETag()
    {
        using var site = new StaticSite();
        var full = site.Write("big.bin", new byte[200 * 1024]);
        site.Start(("cache_ttl", 60));
        var before = site.Request("/big.bin");
        File.WriteAllBytes(full, new byte[500 * 1024]);
        var after = site.Request("/big.bin");
        Assert.That(after.Body, Has.Length.EqualTo(500 * 1024));
        Assert.That(after.Header("ETag"), Is.Not.EqualTo(before.Header("ETag")));
    }

    [Test]
    public void AListingIsRenderedOncePerCacheTtlWhileTheDirectoryIsUnchanged()
    {
        using var site = new StaticSite();
        var file = site.Write("d/a.txt", "a");
        site.Start(("display_index", true), ("cache_ttl", 60));
        Assert.That(site.Request("/d/").BodyText, Does.Contain("<td class=\"size\">1</td>"));

        // Rewriting a file leaves the directory's mtime alone: the cached page stands for the TTL, as file metadata does.
        File.WriteAllText(file, "aaaa");
        Assert.That(site.Request("/d/").BodyText, Does.Contain("<td class=\"size\">1</td>"));
    }

    [Test]
    public void AListingShowsAnAddedOrRemovedEntryAtOnce()
    {
        using var site = new StaticSite();
        site.Write("d/a.txt", "a");
        site.Start(("display_index", true), ("cache_ttl", 60));
        Assert.That(site.Request("/d/").BodyText, Does.Not.Contain("b.txt"));
        site.Write("d/b.txt", "b");
        Assert.That(site.Request("/d/").BodyText, Does.Contain("b.txt"));
        File.Delete(Path.Combine(site.Root, "d", "a.txt"));
        Assert.That(site.Request("/d/").BodyText, Does.Not.Contain("a.txt"));
    }

    [Test]
    public void ALargeListingIsServedCompleteAndTheSameEachTime()
    {
        using var site = new StaticSite();
        for (var i = 0; i < 500; i++)
        {
            site.Write($"many/f{i:D5}.txt", "x");
        }

        site.Start(("display_index", true));
        var first = site.Request("/many/").BodyText;
        Assert.That(first, Does.Contain("f00000.txt").And.Contain("f00499.txt"));
        Assert.That(site.Request("/many/").BodyText, Is.EqualTo(first));
    }
}
