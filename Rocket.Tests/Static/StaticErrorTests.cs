using System.Diagnostics;
using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Static;

/// <summary>Errors: status, logging level, and files that change while they are sent.</summary>
public class StaticErrorTests
{
    [Test]
    public void FifoIsRefusedWith403WithoutBlockingOnOpen()
    {
        // Tests run as root here, so chmod 000 cannot make a file unreadable; a FIFO is the file the
        // server must refuse without opening (opening one blocks until a writer appears).
        using var site = new StaticSite();
        var fifo = Path.Combine(site.Root, "pipe.txt");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            Assert.That(mkfifo.WaitForExit(10_000) && mkfifo.ExitCode == 0, "mkfifo");
        }

        site.Start();

        Assert.That(site.Request("/pipe.txt").StatusLine, Is.EqualTo("HTTP/1.1 403 Forbidden"));
    }

    [Test]
    public void UnixSocketFileIsRefusedWith403()
    {
        using var site = new StaticSite();
        var path = Path.Combine(site.Root, "app.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        site.Start();

        Assert.That(site.Request("/app.sock").StatusCode, Is.EqualTo(403));
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void UnreadableFileIs403ForNonRootUsers()
    {
        Assume.That(Environment.UserName, Is.Not.EqualTo("root"), "root reads every file; the FIFO test covers 403 instead");
        using var site = new StaticSite();
        var path = site.Write("locked.txt", "x");
        File.SetUnixFileMode(path, UnixFileMode.None);
        site.Start();

        Assert.That(site.Request("/locked.txt").StatusCode, Is.EqualTo(403));
    }

    [Test]
    public void NotFoundIsLoggedOnceAtDebugAndNeverAsAnError()
    {
        using var site = new StaticSite();
        site.Start();
        var marker = "missing-" + Guid.NewGuid().ToString("N") + ".txt";

        site.Request("/" + marker);

        var lines = TestLogging.Memory.Logs.Where(l => l.Contains(marker, StringComparison.Ordinal) && !l.Contains("Rocket.Requests", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("DEBUG Rocket.Errors.Static"));
    }

    [Test]
    public void SymlinkOutOfTheRootIsLoggedAsAWarning()
    {
        using var site = new StaticSite();
        var name = "out-" + Guid.NewGuid().ToString("N") + ".txt";
        File.CreateSymbolicLink(Path.Combine(site.Root, name), Path.Combine(site.Base, "secret.txt"));
        site.Start();

        site.Request("/" + name);

        var lines = TestLogging.Memory.Logs.Where(l => l.Contains(name, StringComparison.Ordinal) && !l.Contains("Rocket.Requests", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("WARN Rocket.Errors.Static"));
    }

    [Test]
    public void FileTruncatedWhileBeingSentAbortsTheConnectionInsteadOfPadding()
    {
        const int size = 64 * 1024 * 1024;
        using var site = new StaticSite();
        var path = site.Write("big.bin", new byte[size]);
        site.Start(("cache_ttl", "0"));
        using var client = site.Server.Connect();
        client.Socket.ReceiveBufferSize = 64 * 1024;
        client.Send(StaticSite.RequestText("/big.bin"));

        // Headers are flushed before sendfile starts; the client then stops reading so the server blocks mid-file.
        var statusLine = client.ReadLine();
        while (!string.IsNullOrEmpty(client.ReadLine()))
        {
        }

        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(1024 * 1024);
        }

        long received = 0;
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = client.Socket.Receive(buffer)) > 0)
            {
                received += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        Assert.That(statusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(received, Is.LessThan(size), "the body ends early: never padded to the announced length");
    }

    [Test]
    public void TenMebibyteDownloadDoesNotAllocateTheFile()
    {
        const int size = 10 * 1024 * 1024;
        using var site = new StaticSite();
        site.Write("ten.bin", new byte[size]);
        site.Start();
        Download(site); // warm up: JIT, caches, pools

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var received = Download(site);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(received, Is.EqualTo(size));
        Assert.That(allocated, Is.LessThan(1024 * 1024), $"{allocated} bytes allocated for a {size}-byte download");
    }

    private static long Download(StaticSite site)
    {
        using var client = site.Server.Connect();
        client.Send(StaticSite.RequestText("/ten.bin"));
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = client.Socket.Receive(buffer)) > 0)
        {
            total += n;
        }

        // Everything after the header section is body.
        return total - HeaderLength(site);
    }

    private static int HeaderLength(StaticSite site)
    {
        var head = site.Request("/ten.bin", "HEAD");
        return head.StatusLine.Length + 2 + head.Headers.Sum(h => h.Key.Length + 2 + h.Value.Length + 2) + 2;
    }
}
