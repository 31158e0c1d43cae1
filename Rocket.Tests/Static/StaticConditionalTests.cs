namespace RocketOwin.Tests.Static;

/// <summary>RFC 9110 §13: validators and the precedence of conditional header fields.</summary>
public class StaticConditionalTests
{
    private const string LastModified = "Tue, 02 Jan 2024 03:04:05 GMT";
    private StaticSite _site = null!;
    private string _etag = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _site = new StaticSite();
        var path = _site.Write("doc.txt", "conditional body");
        File.SetLastWriteTimeUtc(path, new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        _site.Start();
        _etag = _site.Request("/doc.txt").Header("ETag")!;
    }

    [OneTimeTearDown]
    public void TearDown() => _site.Dispose();

    [Test]
    public void MatchingIfNoneMatchGives304WithValidatorsAndNoBody()
    {
        var response = _site.Request("/doc.txt", "GET", "If-None-Match: " + _etag);

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 304 Not Modified"));
        Assert.That(response.Header("ETag"), Is.EqualTo(_etag));
        Assert.That(response.Header("Last-Modified"), Is.EqualTo(LastModified));
        Assert.That(response.Body, Is.Empty);
    }

    [Test]
    public void IfNoneMatchListWithTheTagGives304()
        => Assert.That(_site.Request("/doc.txt", "GET", $"If-None-Match: \"other\", {_etag} , \"more\"").StatusCode, Is.EqualTo(304));

    [Test]
    public void IfNoneMatchStarGives304()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-None-Match: *").StatusCode, Is.EqualTo(304));

    [Test]
    public void IfNoneMatchUsesWeakComparison()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-None-Match: W/" + _etag).StatusCode, Is.EqualTo(304));

    [Test]
    public void IfNoneMatchWithOtherTagsGives200()
    {
        var response = _site.Request("/doc.txt", "GET", "If-None-Match: \"nope\", W/\"nada\"");

        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.BodyText, Is.EqualTo("conditional body"));
    }

    [Test]
    public void HeadWithMatchingIfNoneMatchGives304()
        => Assert.That(_site.Request("/doc.txt", "HEAD", "If-None-Match: " + _etag).StatusCode, Is.EqualTo(304));

    [Test]
    public void IfModifiedSinceEqualToLastModifiedGives304()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: " + LastModified).StatusCode, Is.EqualTo(304));

    [Test]
    public void IfModifiedSinceLaterGives304AndObsoleteDateFormatsAreUnderstood()
    {
        Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: Wed, 03 Jan 2024 00:00:00 GMT").StatusCode, Is.EqualTo(304));
        Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: Wednesday, 03-Jan-24 00:00:00 GMT").StatusCode, Is.EqualTo(304));
        Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: Wed Jan  3 00:00:00 2024").StatusCode, Is.EqualTo(304));
    }

    [Test]
    public void IfModifiedSinceEarlierGives200()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT").StatusCode, Is.EqualTo(200));

    [Test]
    public void InvalidIfModifiedSinceIsIgnored()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Modified-Since: yesterday").StatusCode, Is.EqualTo(200));

    [Test]
    public void IfNoneMatchTakesPrecedenceOverIfModifiedSince()
    {
        // §13.2.2: with If-None-Match present, If-Modified-Since is not evaluated at all.
        var response = _site.Request("/doc.txt", "GET", "If-None-Match: \"stale\"", "If-Modified-Since: " + LastModified);

        Assert.That(response.StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void FailingIfMatchGives412()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Match: \"other\"").StatusCode, Is.EqualTo(412));

    [Test]
    public void WeakTagNeverSatisfiesIfMatch()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Match: W/" + _etag).StatusCode, Is.EqualTo(412));

    [Test]
    public void MatchingIfMatchGives200()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Match: " + _etag).StatusCode, Is.EqualTo(200));

    [Test]
    public void IfUnmodifiedSinceBeforeTheChangeGives412()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT").StatusCode, Is.EqualTo(412));

    [Test]
    public void IfMatchTakesPrecedenceOverIfUnmodifiedSince()
        => Assert.That(_site.Request("/doc.txt", "GET", "If-Match: " + _etag, "If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT").StatusCode, Is.EqualTo(200));
}
