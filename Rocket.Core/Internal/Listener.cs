using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// One listening socket (Rocket's Listener): accepts through the socket engine (an accept re-armed after each
/// connection, no thread of its own) and hands each connection to the workers. TLS handshakes run asynchronously, so a
/// silent TLS client never stalls accepting.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Stop, the listener's end of life, disposes the retry timer and the accept's event args; the event never makes a kernel handle (its waits use a monitor).")]
internal sealed class Listener
{
    private static readonly Logger Log = RocketLog.Part("Listener");
    private static readonly byte[] ServiceUnavailable =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"u8.ToArray();

    /// <summary>One log line per this interval for accept failures and refused connections, with a count, rather than one per event.</summary>
    private static readonly long LogIntervalTicks = 10 * System.Diagnostics.Stopwatch.Frequency;

    /// <summary>Longest pause between accept attempts while the process is out of descriptors.</summary>
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromMilliseconds(500);

    private static readonly byte[] PlainHttpOnTlsPort =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 48\r\nConnection: close\r\n\r\nThis port speaks HTTPS; plain HTTP was refused.\n"u8.ToArray();

    private const int MaxPendingAccepted = 4096;

    /// <summary>Accepts completed at once in a row before the loop lets the socket engine serve other sockets first.</summary>
    private const int MaxInlineAccepts = 32;

    // _acceptState: the accept loop runs or waits in the socket engine, waits for _retry, or has ended (Stop).
    private const int AcceptRunning = 0;
    private const int AcceptPaused = 1;
    private const int AcceptEnded = 2;
    private readonly ListenInterface _interface;
    private Socket? _socket;
    private X509Certificate2? _certificate;
    private readonly ManualResetEventSlim _acceptEnded = new(false);
    private SocketAsyncEventArgs? _accept;
    private EpollSocket? _onLoop;
    private Action? _onListenerEdge;
    private MonitorTimer? _retry;
    private int _acceptState;
    private TimeSpan _backoff;
    private long _acceptFailuresLoggedAt;
    private long _acceptFailures;
    private long _refusedLoggedAt;
    private long _refused;
    private volatile bool _stopping;

    public Listener(ServerCore server, ListenInterface listenInterface)
    {
        Server = server;
        _interface = listenInterface;
    }

    public ServerCore Server { get; }

    public bool IsSecure => _interface.IsSecure;

    public IPEndPoint? BoundEndPoint { get; private set; }

    /// <summary>The interface as configured, with the port actually bound (after <see cref="Bind"/>).</summary>
    public ListenInterface BoundInterface => BoundEndPoint is null || BoundEndPoint.Port == _interface.Port
        ? _interface
        : new ListenInterface(_interface.Address, BoundEndPoint.Port, _interface.KeyFile, _interface.CertificateFile);

    public override string ToString()
        => BoundEndPoint is null ? _interface.ToString()
            : (BoundEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{BoundEndPoint.Address}]:{BoundEndPoint.Port}" : BoundEndPoint.ToString())
              + (IsSecure ? " (https)" : string.Empty);

    /// <summary>Loads the certificate and binds; every failure names the interface and the cause.</summary>
    public void Bind(int? backlog)
    {
        if (IsSecure)
        {
            _certificate = LoadCertificate(_interface);
        }

        if (_interface.ListeningSocket is { } inherited)
        {
            // Already bound and listening (socket activation, live reload).
            _socket = inherited;
            BoundEndPoint = (IPEndPoint)inherited.LocalEndPoint!;
            return;
        }

        var socket = new Socket(_interface.IPAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_interface.IPAddress.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(_interface.IPAddress, _interface.Port));
            socket.Listen(backlog ?? int.MaxValue); // int.MaxValue: the OS clamps to its maximum (somaxconn)
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var why = e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "the port is already in use",
                SocketError.AddressNotAvailable => "the address is not one of this machine's",
                SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
                _ => e.Message,
            };
            throw new InvalidOperationException($"interfaces: cannot listen on {_interface.Address}:{_interface.Port}: {why}.", e);
        }

        _socket = socket;
        BoundEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public void Start()
    {
        if (EpollLoop.Instance is { } loop)
        {
            // Rocket's own loop (ROCKET_EPOLL=1): the listener is one more edge-triggered registration, accepted until EAGAIN
            // on each edge, so accepts never wait on the runtime's socket engine. The descriptor becomes
            // non-blocking by fcntl(2) (accept4(2) then returns EAGAIN); an inherited socket keeps that mode, which the next
            // process (Rocket) sets again anyway.
            if (!EpollNative.SetNonBlocking(_socket!.SafeHandle, true))
            {
                throw new SocketException((int)SocketError.NotSocket);
            }

            _retry = new MonitorTimer(OnRetry);
            _onListenerEdge = AcceptOnLoop;
            _onLoop = loop.Register(_socket);
            if (_onLoop.TryWait(_onListenerEdge))
            {
                AcceptOnLoop();
            }

            return;
        }

        var args = new SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true);
        args.Completed += (_, completed) => OnAccepted(completed);
        _accept = args;
        _retry = new MonitorTimer(OnRetry);
        Accept();
    }

    public void Stop()
    {
        _stopping = true;
        AcceptPending();

        // An accept waiting in the socket engine ends only with a connection or with the socket closed under it. Wake it
        // with a connection of our own rather than by closing: an inherited socket must stay listening for the process
        // that passed it (the next Rocket takes the connections queued meanwhile). A loop pausing for descriptors ends here.
        if (Started && Interlocked.CompareExchange(ref _acceptState, AcceptEnded, AcceptPaused) == AcceptPaused)
        {
            _acceptEnded.Set();
        }

        var ended = Started && _acceptEnded.IsSet;
        using (var wake = !Started || ended ? null : WakeAcceptLoop())
        {
            if (!Started || (!ended && (wake is null || !_acceptEnded.Wait(TimeSpan.FromSeconds(5)))))
            {
                DisposeSocket();
            }

            AcceptPending();
        }

        _onLoop?.Close();
        DisposeSocket();
        _retry?.Dispose();
        if (Started && _acceptEnded.Wait(TimeSpan.FromSeconds(5)))
        {
            _accept?.Dispose();
        }
    }

    /// <summary>The accept loop was started, on the runtime's engine or on Rocket's loop.</summary>
    private bool Started => _accept is not null || _onLoop is not null;

    private Socket? WakeAcceptLoop()
    {
        if (!Started || BoundEndPoint is null)
        {
            return null;
        }

        var target = BoundEndPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : BoundEndPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : BoundEndPoint.Address;
        var wake = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            wake.Connect(new IPEndPoint(target, BoundEndPoint.Port));
            return wake;
        }
        catch (SocketException)
        {
            wake.Dispose();
            return null;
        }
    }

    private void DisposeSocket()
    {
        try
        {
            _socket?.Dispose();
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>
    /// Closing a listening socket resets the connections the kernel has completed but nobody accepted, and their
    /// clients may already have sent a request. So take them first (without waiting for more): they are served, and
    /// answered with Connection: close since the server is stopping.
    /// </summary>
    private void AcceptPending()
    {
        var socket = _socket;
        if (socket is null)
        {
            return;
        }

        var taken = 0;
        for (; taken < MaxPendingAccepted; taken++)
        {
            Socket client;
            try
            {
                if (_onLoop is not null)
                {
                    // The listener is non-blocking already (fcntl); Socket.Blocking would start the runtime's engine.
                    if (AcceptedSocket.Accept(socket, BoundEndPoint!, out _) is not { } accepted)
                    {
                        break;
                    }

                    client = accepted;
                }
                else
                {
                    socket.Blocking = false;
                    client = socket.Accept();
                    client.Blocking = true;
                }
            }
            catch (Exception e) when (ClientGone.Is(e))
            {
                break; // WouldBlock: nothing is waiting
            }

            try
            {
                Admit(client);
            }
            catch (Exception e)
            {
                Log.Debug(e, "Could not admit a connection on {0}.", this);
                client.Dispose();
            }
        }

        if (taken > 0)
        {
            RocketLog.Main.Info("Stopping: served {0} connection(s) still waiting in the listen queue of {1}.", taken, this);
        }
    }

    private static X509Certificate2 LoadCertificate(ListenInterface i)
    {
        foreach (var (option, path) in new[] { ("key file", i.KeyFile!), ("certificate file", i.CertificateFile!) })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"interfaces: {option} '{path}' for {i.Address}:{i.Port} does not exist.", path);
            }
        }

        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(i.CertificateFile!, i.KeyFile);

            // Re-import as PKCS#12 so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"interfaces: cannot load key file '{i.KeyFile}' with certificate file '{i.CertificateFile}' for {i.Address}:{i.Port}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Accepts until an accept has to wait, then leaves it armed in the socket engine (<see cref="OnAccepted"/> goes on when
    /// a connection arrives). Runs on the thread that started the listener, the socket engine's thread (inline
    /// completions) or the monitor thread (after a pause); never blocks.
    /// </summary>
    private void Accept()
    {
        var args = _accept!;
        for (var inline = 0; ; inline++)
        {
            if (_stopping)
            {
                EndAcceptLoop();
                return;
            }

            if (inline == MaxInlineAccepts)
            {
                // A full listen queue completes every accept at once: go on from the monitor thread after the engine has
                // served the other sockets' events, so one busy listener cannot starve the rest.
                Pause(TimeSpan.Zero);
                return;
            }

            args.AcceptSocket = null;
            try
            {
                if (_socket!.AcceptAsync(args))
                {
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                EndAcceptLoop();
                return;
            }

            if (!TakeAccepted(args))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The listener's edge on Rocket's loop (or a retry from the monitor): accepts until EAGAIN, then waits for the next edge.
    /// accept4(2) by P/Invoke, not Socket.Accept: on Linux that one goes through the runtime's SocketAsyncContext, and on a
    /// descriptor the runtime believes blocking it waits on the runtime's engine when the queue is empty (the loop would
    /// hang, and Stop's own accepts race with it); on a non-blocking one it throws for the EAGAIN ending every batch.
    /// <see cref="AcceptedSocket"/> makes the Socket as Socket.Accept does, without querying the descriptor. The new
    /// descriptor stays blocking (a worker's head receive blocks; the loop's receives and sends use MSG_DONTWAIT).
    /// </summary>
    private void AcceptOnLoop()
    {
        var loop = _onLoop!;
        for (var inline = 0; ; inline++)
        {
            if (_stopping)
            {
                EndAcceptLoop();
                return;
            }

            if (inline == MaxInlineAccepts)
            {
                // As on the runtime's engine: a full listen queue goes on from the monitor thread, so the loop serves the
                // other sockets' edges in between.
                Pause(TimeSpan.Zero);
                return;
            }

            var edges = loop.Edges;
            Socket? client;
            int errno;
            try
            {
                client = AcceptedSocket.Accept(_socket!, BoundEndPoint!, out errno);
            }
            catch (ObjectDisposedException)
            {
                EndAcceptLoop();
                return;
            }
            catch (SocketException e)
            {
                Log.Debug(e, "Could not admit a connection on {0}.", this);
                continue;
            }

            if (client is null)
            {
                if (errno == EpollNative.EAGAIN)
                {
                    loop.Drained(edges);
                    if (!loop.TryWait(_onListenerEdge!))
                    {
                        return; // the next edge calls again
                    }

                    continue;
                }

                // accept(2) ERRORS: out of descriptors or memory pauses (the connection waits in the backlog); the listener
                // closed or not listening (EBADF, EINVAL, ENOTSOCK) ends the loop; anything else is that one connection's
                // (ECONNABORTED, EPROTO, EPERM from a firewall, EINTR): the next one.
                if (errno is EpollNative.EMFILE or EpollNative.ENFILE or EpollNative.ENOBUFS or EpollNative.ENOMEM)
                {
                    _ = TakeAcceptFailure(SocketError.TooManyOpenSockets);
                    return;
                }

                if (errno is EpollNative.EBADF or EpollNative.EINVAL or EpollNative.ENOTSOCK)
                {
                    _ = TakeAcceptFailure(SocketError.OperationAborted);
                    return;
                }

                continue;
            }

            _backoff = TimeSpan.Zero;
            try
            {
                Admit(client);
            }
            catch (Exception e)
            {
                Log.Debug(e, "Could not admit a connection on {0}.", this);
                client.Dispose();
            }
        }
    }

    private void OnAccepted(SocketAsyncEventArgs args)
    {
        if (TakeAccepted(args))
        {
            Accept();
        }
    }

    private void OnRetry()
    {
        if (Interlocked.CompareExchange(ref _acceptState, AcceptRunning, AcceptPaused) == AcceptPaused)
        {
            if (_onLoop is not null)
            {
                AcceptOnLoop();
            }
            else
            {
                Accept();
            }
        }
    }

    /// <summary>Admits a completed accept's connection; false when the loop ended or pauses (it must not accept again now).</summary>
    private bool TakeAccepted(SocketAsyncEventArgs args)
    {
        if (args.SocketError != SocketError.Success)
        {
            return TakeAcceptFailure(args.SocketError);
        }

        _backoff = TimeSpan.Zero;
        var client = args.AcceptSocket!;
        args.AcceptSocket = null;
        try
        {
            // The connection's own reads block (a worker's head receive); the engine's accept leaves that to us.
            client.Blocking = true;
            Admit(client);
        }
        catch (Exception e)
        {
            Log.Debug(e, "Could not admit a connection on {0}.", this);
            client.Dispose();
        }

        return true;
    }

    /// <summary>An accept failed: false when the loop ended (stopping, listener closed) or paused (out of descriptors).</summary>
    private bool TakeAcceptFailure(SocketError error)
    {
        if (_stopping || error is SocketError.OperationAborted or SocketError.Interrupted or SocketError.Shutdown or SocketError.NotSocket)
        {
            EndAcceptLoop();
            return false;
        }

        // Typically EMFILE/ENFILE: out of descriptors. The connection waits in the listen backlog; pause (longer each
        // time, up to MaxAcceptBackoff) until the server's own timeouts free descriptors, and log once per interval.
        // The pause is a monitor timer: this may be the socket engine's thread, which must never sleep.
        _backoff = _backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
        if (ShouldLog(ref _acceptFailuresLoggedAt, ref _acceptFailures, out var failures))
        {
            Log.Error(
                "Accept on {0} failed: {1} ({2}); {3} failure(s) in the last interval. Accepting pauses up to {4} ms at a time until descriptors are free ({5} connections open).",
                this, new SocketException((int)error).Message, error, failures, MaxAcceptBackoff.TotalMilliseconds, Server.Table.Count);
        }

        Pause(_backoff);
        return false;
    }

    /// <summary>Accepts again after <paramref name="delay"/> from the monitor thread, unless Stop comes first.</summary>
    private void Pause(TimeSpan delay)
    {
        Interlocked.Exchange(ref _acceptState, AcceptPaused);
        _retry!.Change(delay, Timeout.InfiniteTimeSpan);

        // Stop sets _stopping, then ends a paused loop; either it saw the pause or this sees _stopping (both fenced).
        if (_stopping && Interlocked.CompareExchange(ref _acceptState, AcceptEnded, AcceptPaused) == AcceptPaused)
        {
            _acceptEnded.Set();
        }
    }

    private void EndAcceptLoop()
    {
        _onLoop?.Close(); // before the socket closes (Stop), and an inherited one stays listening for the next process
        Interlocked.Exchange(ref _acceptState, AcceptEnded);
        _acceptEnded.Set();
    }

    /// <summary>Counts an event; true (with the count since the last line) when a log line is due.</summary>
    private static bool ShouldLog(ref long loggedAt, ref long count, out long countSinceLastLine)
    {
        count++;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (loggedAt != 0 && now - loggedAt < LogIntervalTicks)
        {
            countSinceLastLine = 0;
            return false;
        }

        loggedAt = now;
        countSinceLastLine = count;
        count = 0;
        return true;
    }

    /// <summary>Answers 503 without reading (the socket must not block the accept loop) and closes.</summary>
    private void Refuse(Socket client)
    {
        if (ShouldLog(ref _refusedLoggedAt, ref _refused, out var refused))
        {
            Log.Warn("{0} connections open, the limit (ServerLimits.MaxConcurrentConnections); {1} connection(s) on {2} answered 503 and closed in the last interval.", Server.Table.Count, refused, this);
        }

        try
        {
            if (_onLoop is not null)
            {
                if (!IsSecure)
                {
                    EpollNative.SendNow(client.SafeHandle, ServiceUnavailable, out _); // never blocks, and no runtime engine
                }
            }
            else
            {
                client.Blocking = false;
                if (!IsSecure)
                {
                    client.Send(ServiceUnavailable, SocketFlags.None, out _);
                }
            }

            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
        }

        client.Dispose();
    }

    private void Admit(Socket client)
    {
        if (Server.Table.Count >= Server.MaxConnections)
        {
            Refuse(client);
            return;
        }

        client.NoDelay = true;
        var ioTimeoutMs = (int)Math.Min(int.MaxValue, Server.Limits.IOTimeout.TotalMilliseconds);
        client.ReceiveTimeout = ioTimeoutMs;
        client.SendTimeout = ioTimeoutMs;
        var connection = new ConnectionTransport(client, Server, IsSecure) { HeadStartedAt = Stopwatch.GetTimestamp() };
        Server.Table.Add(connection);
        if (IsSecure)
        {
            // Timed by the monitor's sweep (ConnectionMonitor), not a CancellationTokenSource per connection: that would
            // start the runtime's timer thread and put a timer-queue entry in and out for every TLS connection.
            connection.HandshakeDeadline = connection.HeadStartedAt + (long)(Server.Limits.TlsHandshakeTimeout.TotalSeconds * Stopwatch.Frequency);
            _ = HandshakeAsync(connection);
        }
        else if (connection.WaitForData())
        {
            Server.ActiveQueue.Enqueue(connection);
        }
    }

    private async Task HandshakeAsync(ConnectionTransport connection)
    {
        try
        {
            // A TLS ClientHello starts with 0x16 (handshake record). Anything else is plain HTTP or noise.
            var first = new byte[1];
            var n = await connection.Socket.ReceiveAsync(first, SocketFlags.Peek).ConfigureAwait(false);
            if (n == 0)
            {
                connection.Close(abort: false);
                return;
            }

            if (first[0] != 0x16)
            {
                await connection.Socket.SendAsync(PlainHttpOnTlsPort, SocketFlags.None).ConfigureAwait(false);
                connection.Close(abort: false);
                return;
            }

            var tls = new SslStream(new NetworkStream(connection.Socket, ownsSocket: false), leaveInnerStreamOpen: false);
            connection.Tls = tls;
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = Server.RequestClientCertificate,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    EnabledSslProtocols = SslProtocols.None, // the OS's defaults: TLS 1.2 and 1.3
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException || ClientGone.Is(e))
        {
            Log.Debug("TLS handshake with {0} on {1} failed: {2}", connection.RemoteEndPoint, this, e.Message);
            connection.Close(abort: true);
            return;
        }
        finally
        {
            connection.HandshakeDeadline = 0;
        }

        connection.HeadStartedAt = Stopwatch.GetTimestamp();
        if (connection.WaitForData())
        {
            Server.ActiveQueue.Enqueue(connection);
        }
    }
}
