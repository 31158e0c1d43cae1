using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Host;

/// <summary>The rocket command as a child process (<c>dotnet rocket.dll ...</c> or an installed tool), with its output.</summary>
public sealed partial class RocketProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<int> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Regex _listeningLine;

    private RocketProcess(ProcessStartInfo start, Regex? listeningLine = null)
    {
        _listeningLine = listeningLine ?? ListeningLine();
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("rocket exited before listening."));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>rocket.dll as built next to the tests (same configuration).</summary>
    public static string RocketDll { get; } = Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Host", "bin", DotNetCli.Configuration, "net10.0", "rocket.dll");

    public string Stdout => Snapshot(_stdout);

    public string Stderr => Snapshot(_stderr);

    public static RocketProcess Start(string arguments, string? workingDirectory = null, string? executable = null, IDictionary<string, string>? environment = null, Regex? listeningLine = null)
        => new(
            executable is null
                ? DotNetCli.StartInfo("dotnet", $"\"{RocketDll}\" {arguments}", workingDirectory, environment)
                : DotNetCli.StartInfo(executable, arguments, workingDirectory, environment),
            listeningLine);

    /// <summary>
    /// The rocket command on one core when taskset is there, as the benchmarks run it (connections then often send
    /// their request before the server has started waiting on them); otherwise as <see cref="Start"/> does.
    /// </summary>
    public static RocketProcess StartOnOneCore(string arguments, IDictionary<string, string>? environment = null)
        => File.Exists("/usr/bin/taskset")
            ? Start($"-c 0 dotnet \"{RocketDll}\" {arguments}", executable: "/usr/bin/taskset", environment: environment)
            : Start(arguments, environment: environment);

    /// <summary>
    /// The line the engine itself logs once listening (NLog's console default), for a program that embeds
    /// <c>new Rocket(...)</c> or WebApp rather than running the rocket command; group 1 is the first interface's port.
    /// </summary>
    public static Regex EngineListeningLine { get; } = new(@" Rocket Listening on [^ ,]+:(\d+)[ ,]", RegexOptions.CultureInvariant);

    /// <summary>Runs rocket to completion (for --help, errors, --list-methods).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string arguments, string? executable = null, IDictionary<string, string>? environment = null)
    {
        using var rocket = Start(arguments, executable: executable, environment: environment);
        var code = rocket.WaitForExit();
        return (code, rocket.Stdout, rocket.Stderr);
    }

    /// <summary>Waits for the "Listening on http://127.0.0.1:PORT" line and returns the port.</summary>
    public int WaitForPort()
    {
        try
        {
            if (!_listening.Task.Wait(TimeSpan.FromSeconds(60)))
            {
                Assert.Fail($"rocket did not report listening within 60 s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
        }
        catch (AggregateException)
        {
            Assert.Fail($"rocket exited before listening.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return _listening.Task.Result;
    }

    /// <summary>Closes the process's standard input (a program waiting in Console.ReadLine gets null).</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>The names of the process's threads (Linux: /proc/PID/task/*/comm), in ordinal order; a thread that ends while they are read is left out.</summary>
    public List<string> ThreadNames()
    {
        var names = new List<string>();
        foreach (var task in Directory.GetDirectories($"/proc/{_process.Id}/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Sends a signal by name (e.g. USR1, what systemd's ExecReload sends) without waiting.</summary>
    public void Signal(string name) => DotNetCli.Run("kill", $"-{name} {_process.Id}");

    /// <summary>Waits until stdout holds <paramref name="count"/> lines containing <paramref name="text"/>; false after <paramref name="bound"/>.</summary>
    public bool WaitForOutput(string text, int count, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (Stdout.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal)) < count)
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    /// <summary>Sends SIGTERM (what systemd and docker stop send) and waits for the exit code.</summary>
    public int Terminate()
    {
        DotNetCli.Run("kill", $"-TERM {_process.Id}");
        return WaitForExit();
    }

    public int WaitForExit()
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"rocket did not exit within 60 s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // The untimed wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^Listening on https?://[^ ]+:(\d+) ")]
    private static partial Regex ListeningLine();

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is not null)
        {
            lock (sb)
            {
                sb.AppendLine(line);
            }
        }
    }

    private static string Snapshot(StringBuilder sb)
    {
        lock (sb)
        {
            return sb.ToString();
        }
    }

    private void OnOutput(string? line)
    {
        Append(_stdout, line);
        if (line is not null && _listeningLine.Match(line) is { Success: true } m)
        {
            _listening.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
