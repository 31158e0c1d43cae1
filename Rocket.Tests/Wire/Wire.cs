using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Assertions shared by the wire tests: exact exchanges, and telling a clean close from an abort from a still-open connection.</summary>
internal static class Wire
{
    /// <summary>Sends <paramref name="request"/> on a new connection and reads one response.</summary>
    public static RawResponse Exchange(TestServer server, string request, bool head = false)
    {
        using var client = server.Connect();
        client.Send(request);
        return client.ReadResponse(head);
    }

    /// <summary>Sends <paramref name="request"/> and asserts the exact status line, an empty body and that the server closes the connection.</summary>
    public static RawResponse AssertRejected(TestServer server, string request, string statusLine)
    {
        using var client = server.Connect();
        client.Send(request);
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo(statusLine));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("0"));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(ServerClosed(client), Is.True, "the connection is closed after a rejected request");
        return response;
    }

    /// <summary>
    /// True when the server ended the connection (end of stream or reset); false when bytes arrived or nothing
    /// happened within the client's receive timeout (the connection is still open).
    /// </summary>
    public static bool ServerClosed(RawClient client)
    {
        try
        {
            return client.ReadLine() is null;
        }
        catch (IOException e) when (!IsTimeout(e))
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Asserts that reading a response fails by the connection ending (reset or early end of stream), never by a timeout or a complete-looking response.</summary>
    public static void AssertAborted(RawClient client)
    {
        var e = Assert.Throws<IOException>(() => client.ReadResponse(), "a truncated response must not look complete")!;
        Assert.That(IsTimeout(e), Is.False, $"the connection was left hanging instead of aborted: {e.Message}");
    }

    public static bool IsTimeout(IOException e) => e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };

    /// <summary>
    /// Completes <paramref name="source"/> and returns how long that took. Continuations of a plain
    /// TaskCompletionSource run inside SetResult, so this is how long they kept the completing thread (the role the
    /// socket engine's thread plays with inline completions).
    /// </summary>
    public static TimeSpan TimeToComplete(TaskCompletionSource source)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        source.SetResult();
        return watch.Elapsed;
    }

    /// <summary>Polls <paramref name="condition"/> until true or the bound passes (a condition wait, not a sleep as synchronisation).</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    public static string Repeat(char c, int count) => new(c, count);
}
