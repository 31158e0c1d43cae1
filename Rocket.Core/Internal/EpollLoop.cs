using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's own readiness loop for plain sockets (Linux x86-64 and arm64, where it is the default; <c>ROCKET_EPOLL=0</c>, read
/// once at start-up, gives every socket to the runtime's engine instead): one thread in epoll_wait(2) over edge-triggered
/// registrations (read and write) made once per socket. The process's loop (<see cref="Instance"/>) has no thread of its own: <see cref="MonitorThread"/>'s thread runs
/// it, waiting in its epoll_wait until the next timer is due (the rocket command's main thread, lent to it). It serves a plain connection's whole life: the listener's accepts, idle waits (instead of the runtime's
/// zero-byte receive, which costs a MSG_PEEK recvfrom each time it is armed), body receives, sends that fill the buffer,
/// sendfile, upgraded streams' reads; and the proxy's upstream head waits and connects (instead of the runtime's receive,
/// which first tries and gets EAGAIN), on the same thread, so a proxied request is woken twice on one thread with no
/// hand-off. TLS stays on SslStream and the runtime's engine (Rocket.Core/README.md, Threads, has the full list).
/// </summary>
internal sealed class EpollLoop
{
    /// <summary>The thread's name (Linux keeps 15 bytes of it: all of it).</summary>
    public const string ThreadName = "Rocket epoll";

    /// <summary>The environment variable that chooses the engine (read once, at the first use of <see cref="Instance"/>).</summary>
    public const string SwitchVariable = "ROCKET_EPOLL";

    /// <summary>
    /// Whether a process that leaves <see cref="SwitchVariable"/> unset gets the loop (where <see cref="IsSupported"/>): the
    /// one place the default lives (Rocket.Core/README.md, Threads, says which it is).
    /// </summary>
    public static readonly bool OnByDefault = true;

    private const int BatchSize = 256;
    private static readonly Lazy<EpollLoop?> Shared = new(CreateShared);

    private readonly Lock _gate = new();
    private readonly int _epoll;
    private EpollSocket?[] _slots = new EpollSocket?[1024];
    private readonly Stack<int> _free = new();
    private int _used;
    private uint _generation;

    // The process's loop (Instance): run by MonitorThread, woken through the eventfd _wake; its registrations, counted so
    // that thread knows whether the loop still needs it.
    private const ulong WakeKey = ulong.MaxValue; // slot uint.MaxValue: never a socket's (slots index an array)
    private readonly bool _monitored;
    private readonly int _wake = -1;
    private int _registered;

    /// <summary>Starts a loop on a thread of its own, named <see cref="ThreadName"/> (tests make their own; the server uses <see cref="Instance"/>).</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux on x86-64 or arm64.</exception>
    public EpollLoop()
        : this(monitored: false)
    {
    }

    private EpollLoop(bool monitored)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("Rocket's epoll loop needs Linux on x86-64 or arm64.");
        }

        _epoll = EpollNative.Create(EpollNative.EpollCloexec);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        if (!monitored)
        {
            new Thread(Run) { IsBackground = true, Name = ThreadName }.Start();
            return;
        }

        // The process's loop adds no thread: the monitor's thread waits in its epoll_wait (the timeout is the next timer),
        // and the eventfd, level-triggered so a signal is never lost between a wait's return and the next, wakes it sooner.
        _wake = EpollNative.EventFd(0, EpollNative.EventFdCloexec | EpollNative.EventFdNonBlock);
        if (_wake < 0 || EpollNative.Control(_epoll, EpollNative.CtlAdd, _wake, EpollNative.EpollIn, WakeKey) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        _monitored = true;
        MonitorThread.Attach(this);
    }

    /// <summary>
    /// Linux on x86-64 or arm64: struct epoll_event is packed on x86-64 (<see cref="EpollNative.Event"/>) and naturally
    /// aligned on arm64 (<see cref="EpollNative.AlignedEvent"/>); the errno and flag values used are the same on both.
    /// </summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>The process's loop when <see cref="SwitchOn"/> on a supported platform, else null (the runtime's engine serves every wait).</summary>
    public static EpollLoop? Instance => Shared.Value;

    /// <summary>
    /// Registers <paramref name="socket"/> for the rest of its life, edge-triggered on both sides: read edges for
    /// <see cref="EpollSocket.WaitAsync"/> and <see cref="EpollSocket.TryWait(Action)"/>, write edges for
    /// <see cref="EpollSocket.WaitWritableAsync(int)"/> (a send that found the buffer full, a non-blocking connect).
    /// </summary>
    /// <remarks>
    /// EPOLLOUT is in every registration rather than added with EPOLL_CTL_MOD when a send finds the buffer full: an
    /// edge-triggered write edge comes only when the kernel frees space after a send that failed for lack of it (TCP wakes
    /// the writer then only), plus once at registration, and it rides in the same event as a read edge otherwise. Adding
    /// it on demand would cost two epoll_ctl(2) calls per filled buffer for no fewer wake-ups.
    /// </remarks>
    public EpollSocket Register(Socket socket)
    {
        var registration = new EpollSocket(this, socket);
        bool first;
        lock (_gate)
        {
            var slot = _free.Count > 0 ? _free.Pop() : _used++;
            if (slot == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }

            _slots[slot] = registration;
            registration.Key = ((ulong)++_generation << 32) | (uint)slot;
            first = ++_registered == 1;
        }

        if (first && _monitored)
        {
            MonitorThread.Demand(); // the loop needs a thread from now on
        }

        const uint Events = EpollNative.EpollIn | EpollNative.EpollOut | EpollNative.EpollRdHup | EpollNative.EpollEt;
        if (EpollNative.Control(_epoll, EpollNative.CtlAdd, registration.Fd, Events, registration.Key) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            Release(registration);
            throw new SocketException(error);
        }

        return registration;
    }

    /// <summary>
    /// Removes the registration; called before its socket closes (a closed descriptor's number may be reused at once). With
    /// <paramref name="socketClosing"/> (the caller closes the socket next) no epoll_ctl(2) DEL: close(2) removes it from the
    /// epoll set when the last reference to the open file goes (epoll(7)), and any edge reported before that (or after it,
    /// while a fork's child still holds a copy) carries this registration's key, which Find matches to nothing once the slot
    /// is released: a slot reused since carries another generation, and a reused descriptor number is never part of a key.
    /// </summary>
    public void Unregister(EpollSocket registration, bool socketClosing)
    {
        if (!socketClosing)
        {
            _ = EpollNative.Control(_epoll, EpollNative.CtlDel, registration.Fd, 0, 0); // fails harmlessly if already closed
        }

        Release(registration);
    }

    /// <summary>
    /// Whether ROCKET_EPOLL's <paramref name="value"/> asks for the loop: "1" yes, "0" no (the runtime's engine), unset or
    /// empty <see cref="OnByDefault"/>. Anything else is refused rather than read as the default: a typo (`off`, `yes`,
    /// `true`) would otherwise silently choose an engine the user did not mean.
    /// </summary>
    /// <exception cref="InvalidOperationException">Any other value; the message names the variable and the value.</exception>
    public static bool SwitchOn(string? value) => value switch
    {
        null or "" => OnByDefault,
        "1" => true,
        "0" => false,
        _ => throw new InvalidOperationException(
            $"{SwitchVariable}={value}: expected 1 (Rocket's epoll loop) or 0 (the runtime's socket engine), or unset for the default ({(OnByDefault ? 1 : 0)})."),
    };

    /// <summary>Throws <see cref="SwitchOn"/>'s error for this process's ROCKET_EPOLL; <see cref="Rocket.Start"/> calls it before binding.</summary>
    public static void CheckSwitch() => _ = SwitchOn(Environment.GetEnvironmentVariable(SwitchVariable));

    private static EpollLoop? CreateShared()
        => SwitchOn(Environment.GetEnvironmentVariable(SwitchVariable)) && IsSupported ? new EpollLoop(monitored: true) : null;

    private void Release(EpollSocket registration)
    {
        var last = false;
        lock (_gate)
        {
            var slot = (int)(uint)registration.Key;
            if (slot < _used && ReferenceEquals(_slots[slot], registration))
            {
                _slots[slot] = null;
                _free.Push(slot);
                last = --_registered == 0;
            }
        }

        if (last && _monitored)
        {
            MonitorThread.Demand(); // a dedicated thread with no timer armed either may end
        }
    }

    private EpollSocket? Find(ulong key)
    {
        var slot = (int)(uint)key;
        var slots = Volatile.Read(ref _slots);
        return slot < slots.Length && slots[slot] is { } registration && registration.Key == key ? registration : null;
    }

    /// <summary>Whether sockets are registered (the process's loop: MonitorThread keeps a thread for it while they are).</summary>
    internal bool Serving => Volatile.Read(ref _registered) > 0;

    /// <summary>Wakes the thread waiting in <see cref="Poll"/> (the process's loop only).</summary>
    internal void Signal() => EpollNative.SignalEventFd(_wake);

    /// <summary>
    /// One epoll_wait(2) of at most <paramref name="timeout"/> ms (-1: until an edge or <see cref="Signal"/>), then every edge
    /// it returned delivered (none is left behind: a thread handing the loop over has served its whole batch). False when
    /// epoll_wait failed for good (logged).
    /// </summary>
    internal unsafe bool Poll(int timeout)
    {
        var events = stackalloc byte[BatchSize * EpollNative.EventSize];
        var n = EpollNative.Wait(_epoll, events, BatchSize, timeout);
        if (n < 0)
        {
            if (Marshal.GetLastPInvokeError() == EpollNative.EINTR)
            {
                return true;
            }

            RocketLog.Errors.Error("epoll_wait failed ({0}); Rocket's epoll loop stopped.", Marshal.GetLastPInvokeError());
            return false;
        }

        for (var i = 0; i < n; i++)
        {
            try
            {
                var (edge, key) = EpollNative.EventAt(events, i);
                if (key == WakeKey)
                {
                    EpollNative.DrainEventFd(_wake);
                    continue;
                }

                Find(key)?.OnEdge(edge);
            }
            catch (Exception e)
            {
                // A waiter's continuation failed past its own handling: the loop must go on for every other socket.
                RocketLog.Errors.Error(e, "A wake-up on Rocket's epoll loop failed.");
            }
        }

        return true;
    }

    private void Run()
    {
        while (Poll(-1))
        {
        }
    }
}
