using System.Collections.Concurrent;
using System.Text;

namespace Chat;

using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>Everyone connected: each text message a member sends goes to all, prefixed with the sender's name.</summary>
public sealed class ChatRoom
{
    private const int TextMessage = 0x1;
    private const int CloseMessage = 0x8;
    private const int MaxMessageBytes = 4096;
    private readonly ConcurrentDictionary<Member, byte> _members = new();

    /// <summary>People in the room now.</summary>
    public int Count => _members.Count;

    /// <summary>The WebSocketFunc for one member: runs until the member leaves.</summary>
    public async Task JoinAsync(IDictionary<string, object> socket, string name)
    {
        var receive = (WebSocketReceiveAsync)socket["websocket.ReceiveAsync"];
        var close = (WebSocketCloseAsync)socket["websocket.CloseAsync"];
        var cancelled = (CancellationToken)socket["websocket.CallCancelled"];
        using var member = new Member((WebSocketSendAsync)socket["websocket.SendAsync"]);
        _members[member] = 0;
        await BroadcastAsync($"* {name} joined ({_members.Count} here)");
        try
        {
            var buffer = new byte[MaxMessageBytes];
            var length = 0;
            while (true)
            {
                var (type, endOfMessage, count) = await receive(new ArraySegment<byte>(buffer, length, buffer.Length - length), cancelled);
                if (type == CloseMessage)
                {
                    await close((int)socket["websocket.ClientCloseStatus"], string.Empty, cancelled);
                    return;
                }

                length += count;
                if (!endOfMessage && length < buffer.Length)
                {
                    continue;
                }

                if (type == TextMessage)
                {
                    await BroadcastAsync($"{name}: {Encoding.UTF8.GetString(buffer, 0, length)}");
                }

                length = 0;
            }
        }
        finally
        {
            _members.TryRemove(member, out _);
            await BroadcastAsync($"* {name} left");
        }
    }

    private async Task BroadcastAsync(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await Task.WhenAll(_members.Keys.Select(m => m.SendAsync(bytes)));
    }

    /// <summary>One connection; sends are serialized (a WebSocket takes one send at a time).</summary>
    private sealed class Member(WebSocketSendAsync send) : IDisposable
    {
        private readonly SemaphoreSlim _sending = new(1, 1);

        public void Dispose() => _sending.Dispose();

        public async Task SendAsync(byte[] message)
        {
            try
            {
                await _sending.WaitAsync();
            }
            catch (ObjectDisposedException)
            {
                return; // left meanwhile
            }

            try
            {
                await send(new ArraySegment<byte>(message), TextMessage, true, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or System.Net.WebSockets.WebSocketException or InvalidOperationException or OperationCanceledException)
            {
                // That member is leaving; its own loop removes it.
            }
            finally
            {
                _sending.Release();
            }
        }
    }
}
