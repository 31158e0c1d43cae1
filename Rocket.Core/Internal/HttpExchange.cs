using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>
/// The state of a connection while it is being served: its input buffer, the request head being parsed,
/// the body reader, the response and its output buffer. Rented from the server's pool when a connection
/// becomes active and returned when it goes idle with nothing buffered, so idle connections hold no buffers.
/// </summary>
internal sealed class HttpExchange
{
    private const int InitialInputSize = 4096;
    private const int HandedToHandler = 1;
    private const int LeftToUpgrade = 2;
    private static readonly byte[] ContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    private byte[] _input = new byte[InitialInputSize];
    private int _inStart;
    private int _inEnd;
    private HeadScan _headScan;
    private bool _handlerPending;
    private long _bodyWaitStartedAt;
    private long _bodyWaitTicks;
    private long _bodyBytesReceived;
    private SendProgress _sendProgress;
    private bool _keepAliveAllowed;
    private ValueTask _handled;
    private int _handOff;
    private Action? _onHandled;

    public HttpExchange(ServerCore server)
    {
        Server = server;
        Limits = server.Limits;
        Body = new RequestBodyStream(this);
        Response = new Response(this, Limits.ResponseBufferSize);
        Output = new OutputBuffer(this, Limits.ResponseBufferSize + 1024);
        Context = new RequestContext(this);
    }

    public ServerCore Server { get; }

    public ServerLimits Limits { get; }

    public ConnectionTransport Connection { get; private set; } = null!;

    public RequestHead Request { get; } = new();

    public RequestBodyStream Body { get; }

    public Response Response { get; }

    public OutputBuffer Output { get; }

    public RequestContext Context { get; }

    public long RequestStart { get; private set; }

    public int BufferedInput => _inEnd - _inStart;

    public ReadOnlySpan<byte> BufferedSpan => _input.AsSpan(_inStart, _inEnd - _inStart);

    /// <summary>True while an asynchronous handler runs (the monitor may then start a disconnect watch).</summary>
    public bool HandlerPending
    {
        get => Volatile.Read(ref _handlerPending);
        set => Volatile.Write(ref _handlerPending, value);
    }

    /// <summary>The worker serving the current request (workers change on reload; each counts its own requests).</summary>
    public Worker? ServedBy { get; set; }

    /// <summary>True after the handler switched protocols; the connection closes when it completes.</summary>
    public bool Upgraded { get; set; }

    /// <summary>True once <see cref="ReleaseBuffers"/> ran: the exchange is dropped, not pooled, when its connection closes.</summary>
    public bool BuffersReleased { get; private set; }

    /// <summary>
    /// For <see cref="RequestFinisher.Serve"/>, when the handler's task is still pending: true when the core now waits for
    /// it with this exchange (it stays the connection's until the handler completes); false when the handler switched
    /// protocols before returning (<see cref="RequestContext.UpgradeAsync"/> is done with the exchange): the upgraded
    /// connection (<see cref="UpgradedStream"/>) waits for the handler itself and the exchange goes back to the pool at once.
    /// </summary>
    /// <remarks>One of this and <see cref="TryLeaveToUpgrade"/> wins for each request; the handler may upgrade on another thread.</remarks>
    public bool TryHandOffHandler() => Interlocked.CompareExchange(ref _handOff, HandedToHandler, 0) == 0;

    /// <summary>
    /// For <see cref="RequestContext.UpgradeAsync"/>, once the 101 is out and the upgraded connection holds all it needs:
    /// true when the handler has not returned to the core yet (which then releases this exchange to the pool, see
    /// <see cref="TryHandOffHandler"/>); false when the core already waits for the handler with this exchange, which must
    /// then stay until the handler completes: its buffers are given up now (<see cref="ReleaseBuffers"/>).
    /// </summary>
    public bool TryLeaveToUpgrade() => Interlocked.CompareExchange(ref _handOff, LeftToUpgrade, 0) == 0;

    /// <summary>
    /// After a 101 on an exchange that must stay until its handler completes (see <see cref="TryLeaveToUpgrade"/>): give
    /// up the input, output and response buffers (~37 KB), so an open upgraded connection costs about what an idle
    /// keep-alive one does. The bytes already received past the head are the <see cref="UpgradedStream"/>'s by now.
    /// </summary>
    public void ReleaseBuffers()
    {
        _input = [];
        _inStart = _inEnd = 0;
        Output.Release();
        Response.ReleaseBuffer();
        Response.Headers.Release();
        Request.Headers.Trim();
        BuffersReleased = true;
    }

    /// <summary>
    /// False once the connection must close after this response. While the server is stopping, true only as long as
    /// more requests are already received (pipelined): each is answered, the last with <c>Connection: close</c>.
    /// </summary>
    public bool KeepAliveAllowed
    {
        get => _keepAliveAllowed && (!Server.IsStopping || MoreReceived());
        set => _keepAliveAllowed = value;
    }

    public void Attach(ConnectionTransport connection)
    {
        Connection = connection;
        _inStart = _inEnd = 0;
        _headScan = default;
    }

    public void Detach()
    {
        Connection = null!;
        _inStart = _inEnd = 0;
        _headScan = default;
        Output.Discard();
    }

    public void Consume(int count)
    {
        _headScan = default;
        _inStart += count;
        if (_inStart == _inEnd)
        {
            _inStart = _inEnd = 0;
        }
    }

    /// <summary>
    /// Serves requests from this connection until it has no complete request buffered and no bytes known
    /// to be waiting. Returns what the caller should do next.
    /// </summary>
    public TurnResult RunTurn(ref int served)
    {
        while (true)
        {
            int headLength;
            try
            {
                headLength = ReadHead();
            }
            catch (BadRequestException e)
            {
                RequestFinisher.Reject(this, e);
                return TurnResult.Closed;
            }
            catch (Exception e) when (e is TimeoutException || ClientGone.Is(e))
            {
                RocketLog.Main.Debug("Connection {0} from {1} ended while reading a request: {2}", Connection.Id, Connection.RemoteEndPoint, e.Message);
                Connection.Close(abort: true);
                return TurnResult.Closed;
            }

            if (headLength == 0)
            {
                return TurnResult.Idle;
            }

            if (headLength < 0)
            {
                Connection.Close(abort: false);
                return TurnResult.Closed;
            }

            if (served++ >= Limits.MaxRequestsPerTurn)
            {
                return TurnResult.Yield;
            }

            Consume(headLength);
            var result = RequestFinisher.Serve(this, Server.Worker);
            if (result != TurnResult.Continue)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// Serves at most one request on a thread that must not block (the socket engine's, for a worker that never blocks:
    /// <see cref="Worker.NeverBlocks"/>), for a plain connection just woken from its idle wait. Receives once, without
    /// blocking; a head that needs a second receive, a head the parser refuses (its answer is a blocking send) and a
    /// request behind a completed one are left to a worker thread: <see cref="TurnResult.Yield"/>. The request's sends
    /// are asynchronous (as on a handler's continuation).
    /// </summary>
    public TurnResult RunTurnHere(Worker worker)
    {
        int headLength;
        try
        {
            headLength = ReadHead(receiveOnce: true);
        }
        catch (BadRequestException)
        {
            // Parsed again by the worker, which answers it.
            return TurnResult.Yield;
        }
        catch (Exception e) when (e is TimeoutException || ClientGone.Is(e))
        {
            RocketLog.Main.Debug("Connection {0} from {1} ended while reading a request: {2}", Connection.Id, Connection.RemoteEndPoint, e.Message);
            Connection.Close(abort: true);
            return TurnResult.Closed;
        }

        switch (headLength)
        {
            case 0:
                return TurnResult.Idle;
            case -1:
                Connection.Close(abort: false);
                return TurnResult.Closed;
            case < 0:
                return TurnResult.Yield;
        }

        Consume(headLength);
        return RequestFinisher.Serve(this, worker, onWorkerThread: false);
    }

    /// <summary>
    /// Returns the length of a complete head at the start of the buffer (validated, with framing applied);
    /// 0 when the bytes are not all there and none are known to be waiting; -1 at end of stream; -2 when
    /// <paramref name="receiveOnce"/> and a second receive is needed.
    /// </summary>
    private int ReadHead(bool receiveOnce = false)
    {
        var received = false;
        while (true)
        {
            if (_inEnd > _inStart)
            {
                var length = RequestParser.TryParse(BufferedSpan, Request, Limits, ref _headScan);
                if (length > 0)
                {
                    Connection.HeadStartedAt = 0;
                    RequestStart = Stopwatch.GetTimestamp();
                    RequestFraming.Apply(Request, Limits);
                    return length;
                }

                if (Connection.HeadStartedAt != 0
                    && Stopwatch.GetElapsedTime(Connection.HeadStartedAt) > Limits.RequestHeadersTimeout)
                {
                    throw new BadRequestException(RequestRejectionReason.RequestHeadersTimeout);
                }
            }

            if (!Connection.KnownReadable)
            {
                return 0;
            }

            if (receiveOnce && received)
            {
                return -2; // the first receive after a wake-up never blocks (ConnectionTransport.ReceiveHead); a second may
            }

            received = true;
            MakeRoom(Limits.MaxRequestLineLength + Limits.MaxRequestHeadersTotalSize + 4);
            var wasEmpty = _inEnd == _inStart;
            var n = Connection.ReceiveHead(_input.AsSpan(_inEnd));
            if (n == 0)
            {
                return -1;
            }

            if (n < 0)
            {
                return 0; // woken with nothing to read (see ConnectionTransport.ReceiveHead): wait again
            }

            if (wasEmpty && Connection.HeadStartedAt == 0)
            {
                Connection.HeadStartedAt = Stopwatch.GetTimestamp();
            }

            _inEnd += n;

            // A receive that filled the free space may have left more behind; otherwise the zero-byte wait finds out.
            Connection.KnownReadable = _inEnd == _input.Length;
        }
    }

    /// <summary>Receives more body bytes into the buffer (blocking, bounded by the I/O timeout and the minimum data rate).</summary>
    /// <exception cref="BadRequestException">End of stream before the body ended, or the client stalled.</exception>
    public void ReceiveMore()
    {
        MakeRoom(InitialInputSize);
        _inEnd += ReceiveDirect(_input.AsSpan(_inEnd));
    }

    public int ReceiveDirect(Span<byte> destination)
    {
        int n;
        BeginBodyWait();
        try
        {
            n = Connection.Receive(destination);
        }
        catch (TimeoutException)
        {
            throw new BadRequestException(RequestRejectionReason.RequestBodyTimeout);
        }
        finally
        {
            EndBodyWait();
        }

        return CountBodyBytes(n);
    }

    /// <summary>
    /// The free input space for one body receive the caller makes itself (<see cref="UnreadBodyDrain"/>), timed as a body
    /// wait like <see cref="ReceiveMoreAsync"/>; <see cref="EndBodyReceive"/> must follow.
    /// </summary>
    public Memory<byte> BeginBodyReceive()
    {
        Connection.KnownReadable = false;
        MakeRoom(InitialInputSize);
        BeginBodyWait();
        return _input.AsMemory(_inEnd);
    }

    /// <summary>Ends a receive begun with <see cref="BeginBodyReceive"/>: its bytes join the buffered input.</summary>
    /// <exception cref="IOException">The receive failed (e.g. the client reset the connection).</exception>
    /// <exception cref="BadRequestException">End of stream before the body ended, or the client stalled.</exception>
    public void EndBodyReceive(System.Net.Sockets.SocketError error, int received)
    {
        EndBodyWait();
        if (error != System.Net.Sockets.SocketError.Success)
        {
            throw new IOException($"receive failed: {error}", new System.Net.Sockets.SocketException((int)error));
        }

        _inEnd += CountBodyBytes(received);
    }

    /// <summary>
    /// Receives more body bytes asynchronously. The <see cref="ServerLimits.IOTimeout"/> on this wait is the monitor's
    /// (<see cref="BodyWaitTimedOut"/>, checked by its once-a-second sweep, which cuts the receive side): no timer or
    /// token source per read, so bodies read asynchronously never start the runtime's timer thread.
    /// </summary>
    public async ValueTask ReceiveMoreAsync(CancellationToken cancellationToken)
    {
        MakeRoom(InitialInputSize);
        int n;
        BeginBodyWait();
        try
        {
            n = await Connection.ReceiveAsync(_input.AsMemory(_inEnd), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EndBodyWait();
        }

        _inEnd += CountBodyBytes(n);
    }

    /// <summary>
    /// True when the body has been waited for longer than the grace period and arrived slower than
    /// <see cref="ServerLimits.MinRequestBodyDataRate"/> (Kestrel's rule: only time spent waiting for the client counts,
    /// so a handler that reads slowly is not blamed on its client). Read by the monitor while a worker may be receiving.
    /// </summary>
    public bool BodyBelowMinimumRate(long now, double bytesPerSecond, long graceTicks)
    {
        var started = Volatile.Read(ref _bodyWaitStartedAt);
        if (started == 0)
        {
            return false;
        }

        var waited = Volatile.Read(ref _bodyWaitTicks) + (now - started);
        return waited > graceTicks && Volatile.Read(ref _bodyBytesReceived) < bytesPerSecond * waited / Stopwatch.Frequency;
    }

    /// <summary>
    /// True when a body read has been waiting for the client longer than <paramref name="timeoutTicks"/> (the
    /// <see cref="ServerLimits.IOTimeout"/>; a blocking read is bounded by the socket's own timeout first). Called by the monitor only.
    /// </summary>
    public bool BodyWaitTimedOut(long now, long timeoutTicks)
    {
        var started = Volatile.Read(ref _bodyWaitStartedAt);
        return started != 0 && now - started > timeoutTicks;
    }

    /// <summary>
    /// True when a send is in progress and the client has acknowledged no byte of it for <paramref name="timeoutTicks"/>
    /// (the <see cref="ServerLimits.IOTimeout"/> on sends; see <see cref="SendProgress"/>). Called by the monitor only.
    /// </summary>
    public bool SendStalled(long now, long timeoutTicks) => _sendProgress.Stalled(Connection, now, timeoutTicks);

    private void BeginBodyWait() => Volatile.Write(ref _bodyWaitStartedAt, Stopwatch.GetTimestamp());

    private void EndBodyWait()
    {
        var started = _bodyWaitStartedAt;
        Volatile.Write(ref _bodyWaitStartedAt, 0);
        Volatile.Write(ref _bodyWaitTicks, _bodyWaitTicks + (Stopwatch.GetTimestamp() - started));
    }

    private int CountBodyBytes(int n)
    {
        if (n == 0)
        {
            // The monitor shuts the receive side when the client fell below the minimum rate: that end is a timeout, not the client's.
            throw new BadRequestException(Connection.Stalled ? RequestRejectionReason.RequestBodyTimeout : RequestRejectionReason.UnexpectedEndOfRequestBody);
        }

        Volatile.Write(ref _bodyBytesReceived, _bodyBytesReceived + n);
        return n;
    }

    /// <summary>Sends <c>100 Continue</c> (after any pipelined responses still buffered).</summary>
    public void SendContinue()
    {
        if (Response.HasStarted)
        {
            return;
        }

        Output.Write(ContinueResponse);
        Output.Flush();
    }

    /// <summary>
    /// Has <see cref="RequestFinisher.Complete"/> finish the request when <paramref name="pending"/>, the handler's task,
    /// completes: one callback per exchange, reused by every request it serves (no state machine per asynchronous request).
    /// </summary>
    public void FinishWhenHandled(ValueTask pending)
    {
        _handled = pending;
        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onHandled ??= OnHandled);
    }

    private void OnHandled()
    {
        var handled = _handled;
        _handled = default;
        RequestFinisher.Complete(this, handled);
    }

    /// <summary>Begins a request whose head has been consumed from the buffer.</summary>
    public void BeginRequest()
    {
        Response.Reset();
        Context.ResetForNextRequest();
        Body.Begin(Request);
        _bodyWaitStartedAt = _bodyWaitTicks = _bodyBytesReceived = 0;
        Upgraded = false;
        _handOff = 0;
        KeepAliveAllowed = true;
    }

    private bool MoreReceived()
    {
        if (BufferedInput > 0 || Connection.KnownReadable)
        {
            return true;
        }

        try
        {
            return Connection.Socket.Available > 0;
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            return false;
        }
    }

    /// <summary>Makes at least <paramref name="free"/> bytes free at the end of the buffer, compacting or growing it.</summary>
    private void MakeRoom(int free)
    {
        if (_input.Length - _inEnd >= Math.Min(free, InitialInputSize))
        {
            return;
        }

        var buffered = _inEnd - _inStart;
        if (_inStart > 0 && _input.Length - buffered >= Math.Min(free, InitialInputSize))
        {
            Buffer.BlockCopy(_input, _inStart, _input, 0, buffered);
        }
        else
        {
            var grown = new byte[Math.Max(_input.Length * 2, buffered + Math.Min(free, InitialInputSize))];
            Buffer.BlockCopy(_input, _inStart, grown, 0, buffered);
            _input = grown;
        }

        _inStart = 0;
        _inEnd = buffered;
    }
}

/// <summary>What a worker thread does with a connection after serving part of it.</summary>
internal enum TurnResult
{
    /// <summary>Keep serving: the next request may already be buffered.</summary>
    Continue,

    /// <summary>Nothing more to serve now: hand it to the monitor.</summary>
    Idle,

    /// <summary>Someone else owns it now (an async handler's or drain's continuation, which hands it back through <see cref="ServerCore.Resume"/>).</summary>
    Handed,

    /// <summary>A request is waiting but this connection had its share of the turn: back to the end of the active queue.</summary>
    Yield,

    /// <summary>Closed.</summary>
    Closed,
}
