using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Static;

/// <summary>No request reaches a file outside document_root: every known trick, each against a sentinel file.</summary>
public class StaticContainmentTests
{
    private StaticSite _site = null!;

    [SetUp]
    public void SetUp()
    {
        _site = new StaticSite();
        _site.Write("hello.txt", "hello");
        _site.Write("sub/inner.txt", "inner");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "link-out.txt"), Path.Combine(_site.Base, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_site.Root, "relative-out.txt"), "../secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "dir-out"), _site.Base);
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "sibling"), Path.Combine(_site.Base, "www-secret"));
        File.CreateSymbolicLink(Path.Combine(_site.Root, "link-in.txt"), Path.Combine(_site.Root, "sub", "inner.txt"));
        _site.Start();
    }

    [TearDown]
    public void TearDown() => _site.Dispose();

    [TestCase("/../secret.txt", 400)]
    [TestCase("/sub/../../secret.txt", 400)]
    [TestCase("/%2e%2e/secret.txt", 400)]
    [TestCase("/%2E%2E/secret.txt", 400)]
    [TestCase("/%2e%2e%2fsecret.txt", 400)]
    [TestCase("/sub%2f..%2f..%2fsecret.txt", 400)]
    [TestCase("/..%5csecret.txt", 400)]
    [TestCase("/..\\secret.txt", 400)]
    [TestCase("/%252e%252e/secret.txt", 404)]
    [TestCase("/%252e%252e%252fsecret.txt", 404)]
    [TestCase("/%c0%ae%c0%ae/secret.txt", 400)]
    [TestCase("/%c0%ae%c0%ae%c0%afsecret.txt", 400)]
    [TestCase("/hello.txt%00.html", 400)]
    [TestCase("/%00../secret.txt", 400)]
    [TestCase("/./hello.txt", 400)]
    [TestCase("/../www-secret/secret.txt", 400)]
    [TestCase("/%2e%2e/www-secret/secret.txt", 400)]
    public void TraversalAttemptIsRefused(string target, int expectedStatus)
    {
        var response = _site.Request(target);

        Assert.That(response.StatusCode, Is.EqualTo(expectedStatus));
        AssertNoSentinel(response);
    }

    [Test]
    public void DoubleSlashAbsolutePathStaysInsideTheRoot()
    {
        var absoluteSecret = Path.Combine(_site.Base, "secret.txt");

        var passwd = _site.Request("//etc/passwd");
        var sentinel = _site.Request("/" + absoluteSecret);

        Assert.That(passwd.StatusCode, Is.EqualTo(404));
        Assert.That(passwd.BodyText, Does.Not.Contain("root:"));
        Assert.That(sentinel.StatusCode, Is.EqualTo(404));
        AssertNoSentinel(sentinel);
    }

    [Test]
    public void DoubleSlashesInsideTheRootCollapse()
    {
        Assert.That(_site.Request("//sub//inner.txt").BodyText, Is.EqualTo("inner"));
    }

    [TestCase("/link-out.txt")]
    [TestCase("/relative-out.txt")]
    [TestCase("/dir-out/secret.txt")]
    [TestCase("/dir-out/www-secret/secret.txt")]
    public void SymlinkLeadingOutOfTheRootIsRefused(string target)
    {
        var response = _site.Request(target);

        Assert.That(response.StatusCode, Is.EqualTo(404));
        AssertNoSentinel(response);
    }

    [Test]
    public void SymlinkToASiblingDirectorySharingTheRootsNamePrefixIsRefused()
    {
        // BASE/www-secret starts with BASE/www: a plain prefix check would let it through.
        var response = _site.Request("/sibling/secret.txt");

        Assert.That(response.StatusCode, Is.EqualTo(404));
        AssertNoSentinel(response);
    }

    [Test]
    public void SymlinkInsideTheRootIsServed()
    {
        Assert.That(_site.Request("/link-in.txt").BodyText, Is.EqualTo("inner"));
    }

    [Test]
    public void SymlinkOutsideTheRootIsServedOnlyWhenExplicitlyAllowed()
    {
        using var site = new StaticSite();
        File.CreateSymbolicLink(Path.Combine(site.Root, "link-out.txt"), Path.Combine(site.Base, "secret.txt"));
        site.Start(("follow_symlinks_outside_root", true));

        Assert.That(site.Request("/link-out.txt").BodyText, Is.EqualTo(StaticSite.OutsideSentinel));
    }

    [TestCase("/.env")]
    [TestCase("/.git/config")]
    [TestCase("/sub/.hidden")]
    [TestCase("/%2egit/config")]
    public void HiddenFilesAreNotServed(string target)
    {
        _site.Write(".env", "SECRET=1");
        _site.Write(".git/config", "[core]");
        _site.Write("sub/.hidden", "h");

        Assert.That(_site.Request(target).StatusCode, Is.EqualTo(404));
    }

    [Test]
    public void SymlinkIntoAHiddenDirectoryIsNotServed()
    {
        _site.Write(".git/config", "[core]");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "visible.txt"), Path.Combine(_site.Root, ".git", "config"));

        Assert.That(_site.Request("/visible.txt").StatusCode, Is.EqualTo(404));
    }

    [Test]
    public void HiddenFilesAreServedWhenConfigured()
    {
        using var site = new StaticSite();
        site.Write(".well-known/security.txt", "Contact: x");
        site.Start(("serve_hidden", "true"));

        Assert.That(site.Request("/.well-known/security.txt").BodyText, Is.EqualTo("Contact: x"));
    }

    private static void AssertNoSentinel(RawResponse response)
    {
        Assert.That(response.BodyText, Does.Not.Contain(StaticSite.OutsideSentinel).And.Not.Contain(StaticSite.SiblingSentinel));
    }
}
