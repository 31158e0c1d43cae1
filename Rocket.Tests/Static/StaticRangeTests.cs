using System.Text;
using System.Text.RegularExpressions;

namespace RocketOwin.Tests.Static;

/// <summary>RFC 9110 §14: byte ranges, served from memory (small files) and with sendfile (larger ones).</summary>
[TestFixture(true)]
[TestFixture(false)]
public class StaticRangeTests(bool fromMemory)
{
    private const string Body = "0123456789abcdefghijklmnopqrstuvwxyz";
    private StaticSite _site = null!;
    private string _etag = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _site = new StaticSite();
        _site.Write("r.txt", Body);
        _site.Write("empty.txt", string.Empty);
        _site.Start(("memory_cache_max_file_size", fromMemory ? "65536" : "0"));
        _etag = _site.Request("/r.txt").Header("ETag")!;
    }

    [OneTimeTearDown]
    public void TearDown() => _site.Dispose();

    [Test]
    public void SingleRangeGives206WithContentRange()
    {
        var response = _site.Request("/r.txt", "GET", "Range: bytes=2-5");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 206 Partial Content"));
        Assert.That(response.Header("Content-Range"), Is.EqualTo("bytes 2-5/36"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("4"));
        Assert.That(response.BodyText, Is.EqualTo("2345"));
    }

    [TestCase("bytes=30-", "uvwxyz", "bytes 30-35/36")]
    [TestCase("bytes=-4", "wxyz", "bytes 32-35/36")]
    [TestCase("bytes=-100", Body, "bytes 0-35/36")]
    [TestCase("bytes=34-1000", "yz", "bytes 34-35/36")]
    [TestCase("BYTES = 0-0", "0", "bytes 0-0/36")]
    public void OpenSuffixAndClippedRangesAreServed(string range, string expected, string contentRange)
    {
        var response = _site.Request("/r.txt", "GET", "Range: " + range);

        Assert.That(response.StatusCode, Is.EqualTo(206));
        Assert.That(response.Header("Content-Range"), Is.EqualTo(contentRange));
        Assert.That(response.BodyText, Is.EqualTo(expected));
    }

    [TestCase("bytes=36-")]
    [TestCase("bytes=100-200")]
    [TestCase("bytes=-0")]
    public void UnsatisfiableRangeGives416WithTheLength(string range)
    {
        var response = _site.Request("/r.txt", "GET", "Range: " + range);

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 416 Range Not Satisfiable"));
        Assert.That(response.Header("Content-Range"), Is.EqualTo("bytes */36"));
    }

    [Test]
    public void AnyRangeOfAnEmptyFileIsUnsatisfiable()
        => Assert.That(_site.Request("/empty.txt", "GET", "Range: bytes=0-").Header("Content-Range"), Is.EqualTo("bytes */0"));

    [TestCase("bytes=5-2")]
    [TestCase("bytes=abc")]
    [TestCase("items=0-5")]
    [TestCase("bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,20-21,22-23,24-25,26-27,28-29,30-31,32-33")]
    [TestCase("bytes=0-10,5-15")]
    public void InvalidUnknownTooManyOrOverlappingRangesGiveTheWholeFile(string range)
    {
        var response = _site.Request("/r.txt", "GET", "Range: " + range);

        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.BodyText, Is.EqualTo(Body));
    }

    [Test]
    public void MultipleRangesGiveMultipartByteranges()
    {
        var response = _site.Request("/r.txt", "GET", "Range: bytes=0-1, 10-12, -2");

        Assert.That(response.StatusCode, Is.EqualTo(206));
        var type = response.Header("Content-Type")!;
        Assert.That(type, Does.StartWith("multipart/byteranges; boundary="));
        var boundary = type["multipart/byteranges; boundary=".Length..];
        Assert.That(response.Header("Content-Length"), Is.EqualTo(response.Body.Length.ToString()));
        var expected = new StringBuilder();
        foreach (var (range, data) in new[] { ("0-1", "01"), ("10-12", "abc"), ("34-35", "yz") })
        {
            expected.Append($"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes {range}/36\r\n\r\n{data}\r\n");
        }

        expected.Append($"--{boundary}--\r\n");
        Assert.That(response.BodyText, Is.EqualTo(expected.ToString()));
        Assert.That(Regex.IsMatch(boundary, "^[0-9a-f]{32}$"));
    }

    [Test]
    public void IfRangeWithTheCurrentTagHonoursTheRange()
        => Assert.That(_site.Request("/r.txt", "GET", "Range: bytes=0-3", "If-Range: " + _etag).StatusCode, Is.EqualTo(206));

    [Test]
    public void IfRangeWithAnOldTagGivesTheWholeFile()
    {
        var response = _site.Request("/r.txt", "GET", "Range: bytes=0-3", "If-Range: \"old\"");

        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.BodyText, Is.EqualTo(Body));
    }

    [Test]
    public void IfRangeWithAWeakTagGivesTheWholeFile()
        => Assert.That(_site.Request("/r.txt", "GET", "Range: bytes=0-3", "If-Range: W/" + _etag).StatusCode, Is.EqualTo(200));

    [Test]
    public void IfRangeWithTheLastModifiedDateHonoursTheRangeAndAnotherDateDoesNot()
    {
        var lastModified = _site.Request("/r.txt", "HEAD").Header("Last-Modified");

        Assert.That(_site.Request("/r.txt", "GET", "Range: bytes=0-3", "If-Range: " + lastModified).StatusCode, Is.EqualTo(206));
        Assert.That(_site.Request("/r.txt", "GET", "Range: bytes=0-3", "If-Range: Mon, 01 Jan 2001 00:00:00 GMT").StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void HeadIgnoresRange()
    {
        var response = _site.Request("/r.txt", "HEAD", "Range: bytes=0-3");

        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("36"));
    }
}
