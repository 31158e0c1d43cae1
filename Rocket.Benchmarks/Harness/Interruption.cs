using System.Runtime.InteropServices;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>
/// Turns the first Ctrl-C / SIGTERM into a cancellation (so finally blocks stop the children);
/// a second one stops the children at once and lets the default handling end the process.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;

    public Interruption()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _count) == 1)
        {
            context.Cancel = true;
            Console.Error.WriteLine($"{context.Signal}: stopping the child processes...");
            _source.Cancel();
        }
        else
        {
            ChildProcess.StopAll();
        }
    }
}
