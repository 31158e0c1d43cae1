using System.Text;
using FsCheck;
using FsCheck.Fluent;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>
/// Properties of the head parser over generated input (FsCheck): any bytes give a request, a client error or
/// "need more", and where the bytes are split into packets never changes which. Inputs are pieces of HTTP
/// mixed with arbitrary bytes, so most runs reach deep into the grammar; each property runs a few thousand
/// cases in about a second (the bounded fuzz run of the test suite).
/// </summary>
public class RequestParserProperties
{
    private const int Cases = 3000;

    private static readonly string[] Pieces =
    [
        "GET", "POST", "HEAD", "OPTIONS", "CONNECT", "get", "PRI", " ", "  ", "\t", "/", "/a?b=c", "/%41%2F", "*",
        "http://h/x", "HTTPS://h:1", "http://u@h/", "h:80", "[::1]:8080", " HTTP/1.1", " HTTP/1.0", " HTTP/2.0", " HTTP/1.1 ",
        "HTTP/1.1", "\r\n", "\r\n", "\r\n", "\n", "\r", "\r\n\r\n", "Host: h", "Host: a b", "Host:", "Host: [::1]:80",
        "Host: h:99999", "host: x.example", ":", ": ", "Content-Length: 3", "Content-Length: 3, 3", "Content-Length: 3, 4",
        "Content-Length: -1", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Expect: 100-continue",
        "Expect: x", "Connection: close, upgrade", "Connection: keep-alive", "Upgrade: websocket", "X-A: b", " folded",
        "\0", "\x7f", "\xff", "\xe9", "abc", "0123456789",
    ];

    private static readonly ServerLimits Defaults = new();

    // The smallest limits allowed, so short inputs reach them too.
    private static readonly ServerLimits Tight = new() { MaxRequestLineLength = 64, MaxRequestHeadersTotalSize = 256, MaxRequestHeaderCount = 3 };

    [FsCheck.NUnit.Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property AnyBytesGiveARequestAClientErrorOrNeedMore()
        => Prop.ForAll(Arb.From(Input()), Arb.From(Gen.Elements(true, false)), (bytes, tight) =>
            Allowed(OneShot(bytes, tight ? Tight : Defaults)));

    [FsCheck.NUnit.Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property SplitPointsNeverChangeTheResult()
        => Prop.ForAll(Arb.From(Input()), Arb.From(Gen.ListOf(Gen.Choose(0, 4096)).Select(c => c.ToArray())), Arb.From(Gen.Elements(true, false)), (bytes, cuts, tight) =>
        {
            var limits = tight ? Tight : Defaults;
            var whole = OneShot(bytes, limits);
            var split = InPieces(bytes, cuts, limits);
            return (whole == split).Label($"whole: {whole}\nsplit: {split}");
        });

    [FsCheck.NUnit.Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property ByteByByteGivesTheSameResultAsOneRead()
        => Prop.ForAll(Arb.From(Input()), bytes =>
        {
            var cuts = Enumerable.Range(0, bytes.Length).ToArray();
            return OneShot(bytes, Tight) == InPieces(bytes, cuts, Tight);
        });

    /// <summary>Pieces of requests and single arbitrary bytes, concatenated.</summary>
    private static Gen<byte[]> Input()
    {
        var piece = Gen.Frequency(
            (8, Gen.Elements(Pieces).Select(p => Encoding.Latin1.GetBytes(p))),
            (2, Gen.Choose(0, 255).Select(b => new[] { (byte)b })),
            (1, Gen.Choose(1, 300).Select(n => Encoding.Latin1.GetBytes(new string('a', n)))));
        return Gen.ListOf(piece).Select(list => list.SelectMany(p => p).ToArray());
    }

    private static bool Allowed(string outcome)
        => !outcome.StartsWith("rejected", StringComparison.Ordinal)
           || outcome.Contains(" 4", StringComparison.Ordinal)
           || outcome.Contains(" 505 UnsupportedHttpVersion", StringComparison.Ordinal)
           || outcome.Contains(" 501 UnsupportedTransferEncoding", StringComparison.Ordinal);

    /// <summary>The head parsed from all the bytes at once, as the worker does: parser, then framing. Anything but a <see cref="BadRequestException"/> escapes and fails the property.</summary>
    private static string OneShot(byte[] bytes, ServerLimits limits)
    {
        var head = new RequestHead();
        try
        {
            var n = RequestParser.TryParse(bytes, head, limits);
            return n == 0 ? "more" : Describe(n, head, limits);
        }
        catch (BadRequestException e)
        {
            return $"rejected {e.StatusCode} {e.Reason}";
        }
    }

    /// <summary>The same bytes arriving in pieces ending at <paramref name="cuts"/>, each call resuming the last.</summary>
    private static string InPieces(byte[] bytes, int[] cuts, ServerLimits limits)
    {
        var head = new RequestHead();
        var scan = default(HeadScan);
        var ends = cuts.Select(c => c % (bytes.Length + 1)).Append(bytes.Length).Distinct().Order();
        try
        {
            foreach (var end in ends)
            {
                var n = RequestParser.TryParse(bytes.AsSpan(0, end), head, limits, ref scan);
                if (n > 0)
                {
                    return Describe(n, head, limits);
                }
            }

            return "more";
        }
        catch (BadRequestException e)
        {
            return $"rejected {e.StatusCode} {e.Reason}";
        }
    }

    private static string Describe(int length, RequestHead head, ServerLimits limits)
    {
        RequestFraming.Apply(head, limits);
        var text = new StringBuilder($"{length} {head.Method} {head.Target} {head.Version} host={head.Host} cl={head.ContentLength} chunked={head.IsChunked} keep={head.KeepAlive}");
        for (var i = 0; i < head.Headers.Count; i++)
        {
            text.Append(" | ").Append(head.Headers.NameAt(i)).Append('=').Append(head.Headers.ValueAt(i));
        }

        return text.ToString();
    }
}
