using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>
/// A process this harness started. Every instance is tracked until it has exited, so that
/// <see cref="StopAll"/> (finally blocks, Ctrl-C, process exit) can end exactly the processes we
/// started, by PID, and nothing else.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int MaxCapturedChars = 1 << 20;
    private static readonly ConcurrentDictionary<int, ChildProcess> Live = new();

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    /// <summary>The PID; with taskset/nice in front it is still the final program's PID (they exec).</summary>
    public int Id => _process.Id;

    /// <summary>The command as started, for reports and error messages.</summary>
    public string CommandLine { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far (capped at 1 MiB).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with its output captured. <paramref name="environment"/>
    /// entries are added to (or override) the inherited environment.
    /// </summary>
    public static ChildProcess Start(
        string fileName,
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var commandLine = Shell.Join([fileName, .. arguments]);
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, commandLine);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start: {commandLine}");
        }
        Live[process.Id] = child;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Waits for the process to exit by itself. On timeout or cancellation the process is stopped
    /// (SIGTERM, then SIGKILL) before the exception propagates.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Stop();
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new TimeoutException($"no exit after {timeout.TotalSeconds:0} s: {CommandLine}");
        }
        Live.TryRemove(Id, out _);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, up to <paramref name="grace"/> to exit, then SIGKILL. Idempotent.</summary>
    public void Stop(TimeSpan? grace = null)
    {
        try
        {
            if (!_process.HasExited && NativeMethods.Terminate(_process.Id)
                && !_process.WaitForExit(grace ?? TimeSpan.FromSeconds(5)))
            {
                _process.Kill();
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited and reaped between the checks.
        }
        Live.TryRemove(Id, out _);
    }

    /// <summary>Stops every process started here that is still running.</summary>
    public static void StopAll()
    {
        foreach (var child in Live.Values)
        {
            child.Stop(TimeSpan.FromSeconds(2));
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    /// <summary>Raised for every line of output, including those past the capture cap.</summary>
    public event Action<string>? LineReceived;

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        LineReceived?.Invoke(line);
        lock (_output)
        {
            if (_output.Length < MaxCapturedChars)
            {
                _output.AppendLine(line);
            }
        }
    }
}
