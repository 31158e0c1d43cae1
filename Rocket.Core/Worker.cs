using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// The class to inherit from to add a request-handling method (Rocket's Worker). The base class owns the
/// connection loop: it parses the request line and headers, enforces the limits, frames the body
/// (Content-Length, chunked, 100-continue), keeps connections alive, answers pipelined requests in order,
/// writes Date and Server, and turns failures into responses. A subclass answers one request in
/// <see cref="HandleAsync"/>.
/// </summary>
/// <remarks>
/// <para>One instance serves a whole server: <see cref="HandleAsync"/> runs on many threads at once, once
/// per request, possibly many times per connection, so keep per-request state in locals.</para>
/// <para>A handler that completes synchronously is served on a Rocket worker thread with no allocation
/// beyond its own. A handler that awaits frees the worker thread at once; its request finishes on the
/// continuation, and the connection then goes back to the active queue.</para>
/// <para>Declare a worker for the plugin loader with <see cref="RocketMethodAttribute"/>, or register it
/// with <see cref="Rocket.RegisterMethod"/>.</para>
/// </remarks>
public abstract class Worker
{
    private ServerCore? _server;
    private AppInfo? _appInfo;
    private string? _methodName;
    private int _inFlight;

    /// <summary>The server's <c>appInfo</c>. Available from <see cref="Initialize"/> on.</summary>
    protected AppInfo AppInfo => _appInfo ?? _server?.AppInfo ?? throw new InvalidOperationException("The worker is not attached to a server yet.");

    /// <summary>The server's limits. Available from <see cref="Initialize"/> on.</summary>
    protected ServerLimits Limits => _server?.Limits ?? throw new InvalidOperationException("The worker is not attached to a server yet.");

    /// <summary>
    /// Where the server listens: the interfaces in the order given, each with the port actually bound (a
    /// configured port 0 shows the port the operating system chose). Available from <see cref="Initialize"/> on:
    /// the sockets are bound before it runs, and no connection is accepted until it returns.
    /// </summary>
    protected IReadOnlyList<ListenInterface> Interfaces => _server?.Interfaces ?? throw new InvalidOperationException("The worker is not attached to a server yet.");

    /// <summary>The name the method was started by (e.g. <c>static</c>).</summary>
    protected string MethodName => _methodName ?? _server?.MethodName ?? string.Empty;

    /// <summary>
    /// The appInfo keys this method reads (compared ignoring case), or null (the default) when the method does not
    /// declare them. When declared, <see cref="Rocket.Start"/> refuses an appInfo holding any other key with an
    /// <see cref="UnknownAppInfoKeyException"/> naming it and the closest declared key, so a typo such as
    /// <c>display_idx</c> fails at start instead of being ignored. A key ending in <c>*</c> stands for every key with that
    /// prefix (the static method's <c>mime.*</c> covers <c>mime.webmanifest</c>).
    /// </summary>
    /// <remarks>Read once, before <see cref="Initialize"/>; return the same keys every time (a static array is usual).</remarks>
    protected internal virtual IReadOnlyCollection<string>? AppInfoKeys => null;

    /// <summary>
    /// True when <see cref="HandleAsync"/> never blocks a thread: every wait in it (network, disk, locks) is awaited, and
    /// what it does before its first await is short. The server then starts a request on the thread that saw its bytes
    /// arrive (the socket engine's) instead of handing it to a worker thread: one wake-up and two context switches less
    /// per request. False (the default) for handlers that may block, as OWIN applications and static files do; a handler
    /// that blocks anyway while this is true stalls every connection of that socket engine thread.
    /// </summary>
    /// <remarks>
    /// Only a request whose whole head arrives in one non-blocking receive on a plain (non-TLS) connection woken from its
    /// idle wait is started there; anything else (TLS, a head that needs more reads, a refused head, pipelined requests
    /// behind it) goes to a worker thread as before. Sends of a request started there are asynchronous, like those of any
    /// request finished on a continuation. Read for each request.
    /// </remarks>
    protected internal virtual bool NeverBlocks => false;

    /// <summary>
    /// Called once when the server starts, after its sockets are bound and before it accepts a connection: read
    /// and validate <see cref="AppInfo"/> here (and <see cref="Interfaces"/> if the method needs its addresses).
    /// Throw <see cref="ArgumentException"/> with a message naming the key and the value for bad settings;
    /// the server then fails to start with that message.
    /// </summary>
    protected virtual void Initialize()
    {
    }

    /// <summary>Answers one request.</summary>
    /// <param name="context">The request, its body and the response. Valid until the returned task completes.</param>
    /// <returns>A task that completes when the response is fully written. An exception before anything was sent
    /// becomes a 500 (or the <see cref="BadRequestException"/>'s status); after, the connection is aborted.</returns>
    protected abstract ValueTask HandleAsync(RequestContext context);

    /// <summary>Called once when the server has stopped; release what <see cref="Initialize"/> acquired.</summary>
    protected virtual void Shutdown()
    {
    }

    internal void RunInitialize() => Initialize();

    internal void RunShutdown() => Shutdown();

    /// <summary>Requests this worker has started and not finished (a reloaded-away worker is shut down at 0).</summary>
    internal int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Attaches to the server; a reload gives the new worker its own appInfo and method name.</summary>
    internal void Attach(ServerCore server, AppInfo? appInfo = null, string? methodName = null)
    {
        _server = server;
        _appInfo = appInfo;
        _methodName = methodName;
    }

    /// <summary>Runs the method's handler for one request (the finisher turns its outcome into the response's end).</summary>
    internal ValueTask Handle(RequestContext context) => HandleAsync(context);

    /// <summary>Counts a request in (see <see cref="InFlight"/>).</summary>
    internal void EnterRequest() => Interlocked.Increment(ref _inFlight);

    /// <summary>Counts a request out.</summary>
    internal void LeaveRequest() => Interlocked.Decrement(ref _inFlight);
}
