using System.Net.Sockets;
using System.Text;
using RocketOwin.Methods.Proxy;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// A short, bounded fuzz run over real sockets (part of every CI run): mutated requests to the engine and to the
/// proxy in front of it. Each gets a response whose status is a success, a client error, 501 or 505, or a clean
/// close, never a 5xx of the server's own making or a hang; the server answers normally afterwards. The seed is
/// printed, so a failure can be replayed with ROCKET_FUZZ_SEED.
/// </summary>
public class FuzzTests
{
    private const int Cases = 250;

    private static readonly string[] Templates =
    [
        "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "PUT http://h:80/x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        "OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ];

    private static readonly string[] Insertions =
    [
        "\r", "\n", "\r\n", " ", "\t", "\0", "\x7f", "\xff", ":", ";", ",", "Host: x\r\n", "Content-Length: 1\r\n",
        "Transfer-Encoding: chunked\r\n", "Content-Length: 99999999999999999999\r\n", "ffffffff\r\n", "X_Y: z\r\n", "%00", "../",
    ];

    [Test]
    public void MutatedRequestsToTheEngineGetAClientErrorOrASuccessNeverAServerError()
    {
        using var server = new TestServer(Apps.Echo());
        Run(server, "engine");
    }

    [Test]
    public void MutatedRequestsThroughTheProxyGetAClientErrorOrASuccessNeverAServerError()
    {
        using var upstream = new TestServer(Apps.Echo());
        using var proxy = new TestServer(new ProxyWorker(), new AppInfo { ["upstream"] = $"http://127.0.0.1:{upstream.Port}" });
        Run(proxy, "proxy");
    }

    private static void Run(TestServer server, string what)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ROCKET_FUZZ_SEED"), out var s) ? s : Environment.TickCount;
        TestContext.Out.WriteLine($"{what}: seed {seed}");
        var random = new Random(seed);
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < Cases; i++)
        {
            var request = Mutate(random, Templates[random.Next(Templates.Length)]);
            var status = Send(server, request);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.That(status is 0 or (>= 100 and < 500) or 501 or 505, $"seed {seed}, case {i}: {status} for {Printable(request)}");
        }

        TestContext.Out.WriteLine($"{what}: " + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        Assert.That(Send(server, Encoding.Latin1.GetBytes(Templates[0])), Is.EqualTo(200), "the server still answers normally");
    }

    private static byte[] Mutate(Random random, string template)
    {
        var bytes = new List<byte>(Encoding.Latin1.GetBytes(template));
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations && bytes.Count > 0; m++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.Latin1.GetBytes(Insertions[random.Next(Insertions.Length)]));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    var length = Math.Min(random.Next(1, 40), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Sends the bytes, ends the sending side, and returns the first status code, or 0 when the server closed without one.</summary>
    private static int Send(TestServer server, byte[] request)
    {
        using var client = new RawClient(server.EndPoint, timeoutMs: 10_000);
        try
        {
            client.Send(request);
            client.Socket.Shutdown(SocketShutdown.Send);
            var line = client.ReadLine();
            if (line is null)
            {
                return 0;
            }

            // An interim 100 Continue may come first.
            while (line.StartsWith("HTTP/1.1 100", StringComparison.Ordinal))
            {
                while (!string.IsNullOrEmpty(client.ReadLine()))
                {
                }

                line = client.ReadLine() ?? "HTTP/1.1 000 closed";
            }

            return int.Parse(line.Split(' ')[1]);
        }
        catch (IOException e) when (!Wire.IsTimeout(e))
        {
            return 0; // reset: the server closed without answering
        }
    }

    private static string Printable(byte[] bytes) => Encoding.Latin1.GetString(bytes).Replace("\r", "\\r").Replace("\n", "\\n");
}
