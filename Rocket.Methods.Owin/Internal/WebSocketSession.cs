using System.Net.WebSockets;
using System.Text;
using NLog;
using MonitorDeadline = RocketOwin.Internal.MonitorDeadline;
using UpgradedStream = RocketOwin.Internal.UpgradedStream;

namespace RocketOwin.Methods.Owin.Internal;

using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>
/// One accepted WebSocket: the BCL's framing (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>)
/// behind the OWIN WebSocket Extension v0.4's delegates, as Katana's OwinWebSocketWrapper put them, plus the server's
/// rules: the maximum message size (close 1009), close 1001 when the server stops, websocket.CallCancelled when the
/// client vanishes or the server gives up waiting, and a clean close after the application's WebSocketFunc returns.
/// </summary>
/// <remarks>
/// Nothing here holds a thread while the socket waits: receives are asynchronous socket reads all the way down. The
/// BCL answers pings with pongs, closes with 1002 on protocol errors (unmasked client frames, control frames over
/// 125 bytes, reserved bits) and with 1007 on invalid UTF-8 in text messages.
/// </remarks>
internal sealed partial class WebSocketSession
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Owin.WebSockets");
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>RFC 6455 §5.2: FIN + opcode 0xA (pong), no mask (a server's frames are unmasked), no payload.</summary>
    private static readonly ReadOnlyMemory<byte> UnsolicitedPong = new byte[] { 0x8A, 0x00 };
    private readonly Connection _connection;
    private readonly string _target;
    private readonly string[] _handshake;
    private readonly WebSocketSessionList _sessions;
    private readonly long _maxMessageSize;
    private WebSocketSendAsync? _send;
    private WebSocketReceiveAsync? _receive;
    private WebSocketCloseAsync? _close;
    private CancellationTokenSource? _cancelled;
    private volatile bool _ended;
    private long _messageBytes;

    private WebSocket _socket = null!;
    private UpgradedStream? _keepAliveStream;
    private int _keepAliveMs;

    /// <remarks>
    /// Keeps of the request only what the session and its <see cref="WebSocketContextAdapter"/> read after the 101: the
    /// connection (the server's per-connection facade, not the request's), the target and the header fields, names and
    /// values in one array; the request's own objects go back to the server for other requests.
    /// </remarks>
    private WebSocketSession(RequestContext context, WebSocketSessionList sessions, long maxMessageSize)
    {
        _connection = context.Connection;
        var request = context.Request;
        _target = request.Target;
        var headers = request.Headers;
        _handshake = new string[headers.Count * 2];
        for (var i = 0; i < headers.Count; i++)
        {
            _handshake[2 * i] = headers.NameAt(i);
            _handshake[(2 * i) + 1] = headers.ValueAt(i);
        }

        _sessions = sessions;
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>
    /// websocket.CallCancelled: its source is made the first time the application reads it (most never do), already
    /// cancelled if the call has ended; <see cref="Cancel"/> fires it: when the client vanishes or breaks the protocol
    /// (a receive or send fails, also when the server aborts the connection at the end of Stop) and when the session ends.
    /// </summary>
    private CancellationToken CallCancelled
    {
        get
        {
            if (_cancelled is { } made)
            {
                return made.Token;
            }

            var source = new CancellationTokenSource();
            if (Interlocked.CompareExchange(ref _cancelled, source, null) is { } raced)
            {
                source.Dispose();
                return raced.Token;
            }

            // Cancel() may have run between the check and the publication: it saw no source, so fire it here.
            if (_ended)
            {
                Cancel();
            }

            return source.Token;
        }
    }

    /// <summary>Neighbours in the worker's list of open sessions (<see cref="WebSocketSessionList"/>, under its lock).</summary>
    internal WebSocketSession? PreviousInList { get; set; }

    /// <inheritdoc cref="PreviousInList"/>
    internal WebSocketSession? NextInList { get; set; }

    /// <summary>
    /// Upgrades the connection, frames it as the server end of a WebSocket and runs <paramref name="app"/> over it to the
    /// end; <paramref name="sessions"/> tells it to go away when the server stops.
    /// </summary>
    public static Task RunAsync(RequestContext context, OwinEnvironment outer, Func<IDictionary<string, object>, Task> app, WebSocketAcceptOptions options, WebSocketSessionList sessions)
    {
        var session = new WebSocketSession(context, sessions, options.MaxMessageSize);
        var stopping = context.ServerStopping;
        ValueTask<Stream> upgrade;
        try
        {
            upgrade = context.UpgradeAsync();
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }

        return upgrade.IsCompletedSuccessfully
            ? session.Open(upgrade.Result, outer, app, options, stopping)
            : session.UpgradeThenOpenAsync(upgrade, outer, app, options, stopping);
    }

    /// <summary>The 101 could not be sent at once (a full socket buffer): the rest waits for it.</summary>
    /// <remarks>The parameters are cleared once the session runs: this state machine lives as long as the socket.</remarks>
    private async Task UpgradeThenOpenAsync(ValueTask<Stream> upgrade, OwinEnvironment outer, Func<IDictionary<string, object>, Task> app, WebSocketAcceptOptions options, CancellationToken stopping)
    {
        var running = Open(await upgrade.ConfigureAwait(false), outer, app, options, stopping);
        outer = null!;
        app = null!;
        options = null!;
        await running.ConfigureAwait(false);
    }

    /// <remarks>
    /// Right after the 101, before anything is awaited (see RequestContext.UpgradeAsync): the request's environment keeps
    /// its values and lets go of the context, which the server reuses for other requests. The application then runs in a
    /// state machine that holds little more than the session (not the accept options, the stream, the environment or a
    /// stopping registration).
    /// </remarks>
    private Task Open(Stream stream, OwinEnvironment outer, Func<IDictionary<string, object>, Task> app, WebSocketAcceptOptions options, CancellationToken stopping)
    {
        try
        {
            outer.Detach(() => CallCancelled);
            var keepAlive = options.KeepAliveInterval;
            if (keepAlive > TimeSpan.Zero && stream is UpgradedStream upgraded)
            {
                // The list's once-a-second tick sends the pongs (SendKeepAlive): no runtime timer per socket.
                (_keepAliveStream, _keepAliveMs) = (upgraded, (int)Math.Min(keepAlive.TotalMilliseconds, int.MaxValue / 2));
                keepAlive = TimeSpan.Zero;
            }

            _socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                SubProtocol = options.SubProtocol,
                KeepAliveInterval = keepAlive,
            });
        }
        catch (Exception e)
        {
            stream.Dispose();
            return Task.FromException(e);
        }

        _sessions.Add(this, stopping);
        return RunAppAsync(app);
    }

    private async Task RunAppAsync(Func<IDictionary<string, object>, Task> app)
    {
        try
        {
            Task task;
            using (AppSynchronizationContext.Enter())
            {
                task = app(this);
            }

            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (ClientEnded(e))
        {
            // The client vanished, broke the protocol, or the server stopped waiting: that ends the socket, it is not an application failure.
            Log.Debug("WebSocket {0} from {1} ended: {2}", _target, _connection.RemoteEndPoint, e.Message);
            Cancel();
        }
        finally
        {
            _sessions.Remove(this);
            await CleanupAsync().ConfigureAwait(false);
            _cancelled?.Dispose();
            _socket.Dispose();
        }
    }

    private bool ClientEnded(Exception e)
        => _socket.State == WebSocketState.Aborted
           || _ended
           || e is IOException or OperationCanceledException or ObjectDisposedException
           || (e is WebSocketException ws && ws.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely or WebSocketError.InvalidState or WebSocketError.Faulted or WebSocketError.HeaderError or WebSocketError.InvalidMessageType);

    private Task SendAsync(ArraySegment<byte> buffer, int messageType, bool endOfMessage, CancellationToken cancel)
    {
        switch (messageType)
        {
            case WebSocketKeys.TextMessage:
            case WebSocketKeys.BinaryMessage:
                var type = messageType == WebSocketKeys.TextMessage ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                var pending = _socket.SendAsync(buffer.AsMemory(), type, endOfMessage, cancel);
                return pending.IsCompletedSuccessfully ? Task.CompletedTask : Observe(pending.AsTask());
            case WebSocketKeys.CloseMessage:
                // As Katana's wrapper: a close message is a close (status in the first two bytes, then the reason).
                if (buffer.Count == 0)
                {
                    return CloseAsync((int)WebSocketCloseStatus.NormalClosure, string.Empty, cancel);
                }

                if (buffer.Count < 2)
                {
                    throw new ArgumentOutOfRangeException(nameof(buffer), buffer.Count, "A close message carries a two-byte status code first (RFC 6455 §5.5.1).");
                }

                var span = buffer.AsSpan();
                return CloseAsync((span[0] << 8) | span[1], Encoding.UTF8.GetString(span[2..]), cancel);
            case WebSocketKeys.PingMessage:
            case WebSocketKeys.PongMessage:
                // The BCL answers pings and sends keep-alive pongs itself and lets no one else send control frames; Katana dropped them too.
                return Task.CompletedTask;
            default:
                throw new ArgumentOutOfRangeException(nameof(messageType), messageType, "websocket.SendAsync takes 0x1 (text), 0x2 (binary) or 0x8 (close).");
        }
    }

    private async Task<Tuple<int, bool, int>> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancel)
    {
        ValueWebSocketReceiveResult result;
        try
        {
            result = await _socket.ReceiveAsync(buffer.AsMemory(), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // The client vanished mid-message or broke the protocol (the BCL has sent 1002/1007 then): the call is over.
            Cancel();
            throw;
        }

        if (result.MessageType == WebSocketMessageType.Close)
        {
            SetClientClose((int)(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure), _socket.CloseStatusDescription ?? string.Empty);
            return Tuple.Create(WebSocketKeys.CloseMessage, true, result.Count);
        }

        _messageBytes += result.Count;
        if (_maxMessageSize > 0 && _messageBytes > _maxMessageSize)
        {
            await TooBigAsync().ConfigureAwait(false);
        }

        if (result.EndOfMessage)
        {
            _messageBytes = 0;
        }

        return Tuple.Create(result.MessageType == WebSocketMessageType.Text ? WebSocketKeys.TextMessage : WebSocketKeys.BinaryMessage, result.EndOfMessage, result.Count);
    }

    /// <summary>RFC 6455 §7.4.1: 1009 for a message too big to process; the receive then fails, as for any protocol error.</summary>
    private async Task TooBigAsync()
    {
        var description = $"message over {_maxMessageSize} bytes";
        Log.Debug("WebSocket {0} from {1}: {2}; closing with 1009.", _target, _connection.RemoteEndPoint, description);
        try
        {
            using var timeout = new MonitorDeadline(CloseHandshakeTimeout); // the monitor's timer: no runtime timer thread per close
            await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
        }

        Cancel();
        throw new WebSocketException(WebSocketError.Faulted, $"The client sent a {description} (websocket_max_message_size); the socket was closed with 1009.");
    }

    private Task CloseAsync(int status, string description, CancellationToken cancel)
    {
        // Closing twice (the app answers the client's close after the server's 1001 went out) is not an error.
        var state = _socket.State;
        return state is WebSocketState.Open or WebSocketState.CloseReceived
            ? Observe(_socket.CloseOutputAsync((WebSocketCloseStatus)status, description, cancel))
            : Task.CompletedTask;
    }

    /// <summary>Sends failing because the client left cancel the call, as receives do.</summary>
    private async Task Observe(Task send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            Cancel();
            throw;
        }
    }

    /// <summary>Whether this session sends keep-alive pongs (<see cref="SendKeepAlive"/>).</summary>
    internal bool KeepsAlive => _keepAliveStream is not null;

    /// <summary>
    /// RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a unidirectional heartbeat." One goes out when
    /// the server has written nothing to the socket for the keep-alive interval, as the BCL's KeepAliveInterval did; called
    /// by <see cref="WebSocketSessionList"/> on the monitor's thread once a second, so it is up to a second late. Never
    /// blocks; skipped while the server writes (data is flowing) and once the close handshake has begun.
    /// </summary>
    internal void SendKeepAlive(int now)
    {
        if (_keepAliveStream is { } stream && !_ended && _socket.State == WebSocketState.Open)
        {
            stream.TrySendHeartbeat(UnsolicitedPong, _keepAliveMs, now);
        }
    }

    /// <summary>Server stopping: close 1001 "going away" (RFC 6455 §7.4.1); the application sees the client's close as usual.</summary>
    internal void GoAway()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            _ = GoAwayAsync();
        }
    }

    private async Task GoAwayAsync()
    {
        try
        {
            // Bounded by the drain: at its deadline the server aborts the connection, which fails this send.
            await _socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "server stopping", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Already closing or gone: the drain's deadline ends the rest.
        }
    }

    /// <summary>After the WebSocketFunc: finish the close handshake if it is half done, or start it (bounded), else abort.</summary>
    private async Task CleanupAsync()
    {
        try
        {
            using var timeout = new MonitorDeadline(CloseHandshakeTimeout); // the monitor's timer: no runtime timer thread per close
            switch (_socket.State)
            {
                case WebSocketState.CloseReceived:
                    // Echo the client's status (RFC 6455 §5.5.1).
                    await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, _socket.CloseStatusDescription, timeout.Token).ConfigureAwait(false);
                    break;
                case WebSocketState.Open:
                case WebSocketState.CloseSent:
                    // Returned without closing, or closed without waiting for the answer: wait briefly for the client's close.
                    await _socket.CloseAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty, timeout.Token).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }

        Cancel();
    }

    private void Cancel()
    {
        _ended = true;
        try
        {
            _cancelled?.Cancel();
        }
        catch (AggregateException e)
        {
            Log.Error(e, "A websocket.CallCancelled callback failed.");
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
