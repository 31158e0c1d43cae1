using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's own readiness loop for plain sockets (Linux x86-64, behind the internal switch <c>ROCKET_EPOLL=1</c>, read once
/// at start-up; default off): one thread in epoll_wait(2) over edge-triggered registrations made once per socket. It serves
/// idle client connections' waits (instead of the runtime's zero-byte receive, which costs a MSG_PEEK recvfrom each time it
/// is armed) and the proxy's upstream head waits (instead of the runtime's receive, which first tries and gets EAGAIN), on
/// the same thread, so a proxied request is woken twice on one thread with no hand-off. TLS stays on SslStream and the
/// runtime's engine.
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
    public static readonly bool OnByDefault = false;

    private const int BatchSize = 256;
    private static readonly Lazy<EpollLoop?> Shared = new(CreateShared);

    private readonly Lock _gate = new();
    private readonly int _epoll;
    private EpollSocket?[] _slots = new EpollSocket?[1024];
    private readonly Stack<int> _free = new();
    private int _used;
    private uint _generation;

    /// <summary>Starts a loop and its thread (tests make their own; the server uses <see cref="Instance"/>).</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux on x86-64.</exception>
    public EpollLoop()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("Rocket's epoll loop needs Linux on x86-64.");
        }

        _epoll = EpollNative.Create(EpollNative.EpollCloexec);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        new Thread(Run) { IsBackground = true, Name = ThreadName }.Start();
    }

    /// <summary>Linux on x86-64 (struct epoll_event is packed there; <see cref="EpollNative.Event"/> is laid out for it).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The process's loop when <see cref="SwitchOn"/> on a supported platform, else null (the runtime's engine serves every wait).</summary>
    public static EpollLoop? Instance => Shared.Value;

    /// <summary>
    /// Registers <paramref name="socket"/> (edge-triggered, read side; with <paramref name="writable"/> the write side too, for a
    /// non-blocking connect: <see cref="EpollSocket.WaitWritableAsync"/>) for the rest of its life.
    /// </summary>
    public unsafe EpollSocket Register(Socket socket, bool writable = false)
    {
        var registration = new EpollSocket(this, socket);
        lock (_gate)
        {
            var slot = _free.Count > 0 ? _free.Pop() : _used++;
            if (slot == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }

            _slots[slot] = registration;
            registration.Key = ((ulong)++_generation << 32) | (uint)slot;
        }

        var data = new EpollNative.Event
        {
            Events = EpollNative.EpollIn | EpollNative.EpollRdHup | EpollNative.EpollEt | (writable ? EpollNative.EpollOut : 0),
            Data = registration.Key,
        };
        if (EpollNative.Control(_epoll, EpollNative.CtlAdd, registration.Fd, &data) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            Release(registration);
            throw new SocketException(error);
        }

        return registration;
    }

    /// <summary>Removes the registration; called before its socket closes (a closed descriptor's number may be reused at once).</summary>
    public unsafe void Unregister(EpollSocket registration)
    {
        var data = default(EpollNative.Event);
        _ = EpollNative.Control(_epoll, EpollNative.CtlDel, registration.Fd, &data); // fails harmlessly if already closed
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
        => SwitchOn(Environment.GetEnvironmentVariable(SwitchVariable)) && IsSupported ? new EpollLoop() : null;

    private void Release(EpollSocket registration)
    {
        lock (_gate)
        {
            var slot = (int)(uint)registration.Key;
            if (slot < _used && ReferenceEquals(_slots[slot], registration))
            {
                _slots[slot] = null;
                _free.Push(slot);
            }
        }
    }

    private EpollSocket? Find(ulong key)
    {
        var slot = (int)(uint)key;
        var slots = Volatile.Read(ref _slots);
        return slot < slots.Length && slots[slot] is { } registration && registration.Key == key ? registration : null;
    }

    private unsafe void Run()
    {
        var events = stackalloc EpollNative.Event[BatchSize];
        while (true)
        {
            var n = EpollNative.Wait(_epoll, events, BatchSize, -1);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == EpollNative.EINTR)
                {
                    continue;
                }

                RocketLog.Errors.Error("epoll_wait failed ({0}); Rocket's epoll loop stopped.", Marshal.GetLastPInvokeError());
                return;
            }

            for (var i = 0; i < n; i++)
            {
                try
                {
                    Find(events[i].Data)?.OnEdge(events[i].Events);
                }
                catch (Exception e)
                {
                    // A waiter's continuation failed past its own handling: the loop must go on for every other socket.
                    RocketLog.Errors.Error(e, "A wake-up on Rocket's epoll loop failed.");
                }
            }
        }
    }
}
