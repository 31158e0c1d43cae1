using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>What one large transfer through a proxy cost: RSS before and at its peak, and the rate.</summary>
internal sealed record TransferResult(string Direction, long RssBeforeKiB, long RssPeakKiB, double Seconds, long Bytes)
{
    public long GrowthKiB => Math.Max(0, RssPeakKiB - RssBeforeKiB);

    public double MegabytesPerSecond => Bytes / Seconds / 1e6;
}

/// <summary>
/// One 1 GiB download (GET /bytes/N) or upload (POST /sink) through a proxy on one connection, with the
/// proxy's RSS sampled every 20 ms: what "bounded buffers" means in numbers.
/// </summary>
internal static class ProxyTransfer
{
    private const int BufferSize = 256 * 1024;

    public static async Task<TransferResult> RunAsync(int port, int proxyPid, bool upload, long bytes, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        var before = ProcStats.RssKiB(proxyPid);
        var peak = before;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcStats.RssKiB(proxyPid));
                try
                {
                    await Task.Delay(20, sampling.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        using (var socket = await RawHttp.ConnectAsync(port, timeout.Token).ConfigureAwait(false))
        {
            if (upload)
            {
                await UploadAsync(socket, bytes, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await DownloadAsync(socket, bytes, timeout.Token).ConfigureAwait(false);
            }
        }

        clock.Stop();
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        peak = Math.Max(peak, ProcStats.RssKiB(proxyPid));
        return new TransferResult(upload ? "upload" : "download", before, peak, clock.Elapsed.TotalSeconds, bytes);
    }

    private static async Task DownloadAsync(Socket socket, long bytes, CancellationToken cancellationToken)
    {
        var request = Encoding.ASCII.GetBytes($"GET /bytes/{bytes.ToString(CultureInfo.InvariantCulture)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[BufferSize];
        long received = 0;
        long? expectedTotal = null;
        var head = new StringBuilder();
        while (expectedTotal is null || received < expectedTotal)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidDataException($"download ended after {received} bytes");
            }

            received += n;
            if (expectedTotal is null)
            {
                head.Append(Encoding.Latin1.GetString(buffer, 0, Math.Min(n, 4096)));
                var end = head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    if (!head.ToString().StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                    {
                        throw new InvalidDataException("download failed: " + head.ToString()[..end]);
                    }

                    // Content-Length framing from the upstream: head + body is the whole response.
                    expectedTotal = end + 4 + bytes;
                }
            }
        }
    }

    private static async Task UploadAsync(Socket socket, long bytes, CancellationToken cancellationToken)
    {
        var head = Encoding.ASCII.GetBytes($"POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {bytes.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var block = new byte[BufferSize];
        block.AsSpan().Fill((byte)'u');
        for (var left = bytes; left > 0;)
        {
            var n = (int)Math.Min(left, block.Length);
            await socket.SendAsync(block.AsMemory(0, n), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            left -= n;
        }

        var response = new byte[4096];
        var got = await socket.ReceiveAsync(response, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var text = Encoding.Latin1.GetString(response, 0, got);
        if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            throw new InvalidDataException("upload failed: " + text.Split("\r\n")[0]);
        }
    }
}
