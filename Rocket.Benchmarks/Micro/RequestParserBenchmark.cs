using System.Text;
using BenchmarkDotNet.Attributes;
using RocketOwin.Internal;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// The head parser and framing step on a whole head in one buffer (the plaintext path): wrk's two-line request and a
/// browser-sized one. Allocated must stay 0: the head's strings are reused when they repeat.
/// </summary>
[MemoryDiagnoser]
public class RequestParserBenchmark
{
    private static readonly byte[] Wrk = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");

    private static readonly byte[] Browser = Encoding.ASCII.GetBytes(
        "GET /static/app.js?v=12 HTTP/1.1\r\nHost: www.example.com:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\n"
        + "Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: http://www.example.com/\r\n"
        + "Connection: keep-alive\r\nCookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\nSec-Fetch-Dest: script\r\n"
        + "Sec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\nIf-None-Match: \"5f3a-1a2b\"\r\n\r\n");

    private readonly RequestHead _head = new();
    private readonly ServerLimits _limits = new();

    /// <summary>wrk's request: request line and Host.</summary>
    [Benchmark]
    public int ParseWrkHead()
    {
        var n = RequestParser.TryParse(Wrk, _head, _limits);
        RequestFraming.Apply(_head, _limits);
        return n;
    }

    /// <summary>A browser's request: 13 fields, about 600 bytes.</summary>
    [Benchmark]
    public int ParseBrowserHead()
    {
        var n = RequestParser.TryParse(Browser, _head, _limits);
        RequestFraming.Apply(_head, _limits);
        return n;
    }
}
