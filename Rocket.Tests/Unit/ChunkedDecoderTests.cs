using System.Text;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

public class ChunkedDecoderTests
{
    private const int MaxTrailer = 1024;

    /// <summary>Feeds <paramref name="input"/> in pieces of <paramref name="step"/> bytes, as a socket might deliver it.</summary>
    private static (string Body, int Consumed, bool Done) Decode(string input, int step = int.MaxValue, long? maxBody = null, int outputSize = 4096)
    {
        var bytes = Encoding.Latin1.GetBytes(input);
        var decoder = default(ChunkedDecoder);
        var body = new MemoryStream();
        var output = new byte[outputSize];
        var available = 0;
        var start = 0;
        while (true)
        {
            var n = decoder.Decode(bytes.AsSpan(start, available - start), output, maxBody, MaxTrailer, out var consumed);
            start += consumed;
            body.Write(output, 0, n);
            if (decoder.IsDone)
            {
                return (Encoding.Latin1.GetString(body.ToArray()), start, true);
            }

            if (n == 0 && consumed == 0)
            {
                if (available == bytes.Length)
                {
                    return (Encoding.Latin1.GetString(body.ToArray()), start, false);
                }

                available = (int)Math.Min(bytes.Length, (long)available + step);
            }
        }
    }

    [Test]
    public void DecoderJoinsChunksAndStopsAfterTheLastChunk()
    {
        const string body = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
        var (text, consumed, done) = Decode(body + "GET / HTTP/1.1\r\n");
        Assert.That(done, Is.True);
        Assert.That(text, Is.EqualTo("hello, world"));
        Assert.That(consumed, Is.EqualTo(body.Length));
    }

    [Test]
    public void DecoderSkipsExtensionsAndTrailers()
    {
        const string body = "5;name=value;flag\r\nhello\r\nA ; q=\"x\"\r\n0123456789\r\n0;last\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n";
        var (text, consumed, done) = Decode(body);
        Assert.That(done, Is.True);
        Assert.That(text, Is.EqualTo("hello0123456789"));
        Assert.That(consumed, Is.EqualTo(body.Length));
    }

    [Test]
    public void DecoderGivesTheSameBodyWhateverTheInputSplitsAndOutputSize()
    {
        const string body = "3\r\nabc\r\n10\r\n0123456789abcdef\r\n1;e=1\r\nZ\r\n0\r\nT: v\r\n\r\n";
        for (var step = 1; step <= body.Length; step++)
        {
            foreach (var outputSize in new[] { 1, 2, 7, 4096 })
            {
                var (text, consumed, done) = Decode(body, step, outputSize: outputSize);
                Assert.That(done, Is.True, $"step {step}, output {outputSize}");
                Assert.That(text, Is.EqualTo("abc0123456789abcdefZ"), $"step {step}, output {outputSize}");
                Assert.That(consumed, Is.EqualTo(body.Length));
            }
        }
    }

    [Test]
    public void DecoderWaitsForMoreInputWithoutConsumingAPartialSizeLine()
    {
        var (text, consumed, done) = Decode("5\r\nhello\r\n1");
        Assert.That(done, Is.False);
        Assert.That(text, Is.EqualTo("hello"));
        Assert.That(consumed, Is.EqualTo("5\r\nhello\r\n".Length));
    }

    [Test]
    public void DecoderAcceptsBareLineFeeds()
        => Assert.That(Decode("2\nhi\n0\n\n").Body, Is.EqualTo("hi"));

    [TestCase("x\r\n")]
    [TestCase("\r\n")]
    [TestCase("-1\r\n")]
    [TestCase("5 5\r\nhello\r\n")]
    [TestCase("1234567890123456\r\n")]
    [TestCase("5\r\nhelloXY0\r\n\r\n")]
    [TestCase("0\r\nno colon here\r\n\r\n")]
    [TestCase("0\r\nbad name: v\r\n\r\n")]
    public void DecoderRejectsMalformedFraming(string input)
    {
        var e = Assert.Throws<BadRequestException>(() => Decode(input))!;
        Assert.That(e.Reason, Is.EqualTo(RequestRejectionReason.InvalidChunkedBody));
        Assert.That(e.StatusCode, Is.EqualTo(400));
    }

    [Test]
    public void DecoderRejectsABodyOverTheLimitAtTheChunkSize()
    {
        Assert.That(Decode("4\r\nabcd\r\n0\r\n\r\n", maxBody: 4).Body, Is.EqualTo("abcd"));
        var e = Assert.Throws<BadRequestException>(() => Decode("4\r\nabcd\r\n1\r\n", maxBody: 4))!;
        Assert.That(e.Reason, Is.EqualTo(RequestRejectionReason.RequestBodyTooLarge));
        Assert.That(e.StatusCode, Is.EqualTo(413));
        Assert.Throws<BadRequestException>(() => Decode("FFFFFFFFFF\r\n", maxBody: 1000));
    }

    [Test]
    public void DecoderRejectsATrailerSectionOverTheLimit()
    {
        var e = Assert.Throws<BadRequestException>(() => Decode("0\r\nT: " + new string('a', MaxTrailer) + "\r\n\r\n"))!;
        Assert.That(e.Reason, Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
        Assert.Throws<BadRequestException>(() => Decode("0\r\nT: " + new string('a', MaxTrailer), step: 100));
    }

    [Test]
    public void DecoderRejectsAnOverlongSizeLine()
        => Assert.Throws<BadRequestException>(() => Decode("1;" + new string('e', 5000)));
}
