using System.Diagnostics;
using System.Text;

namespace RocketOwin.Tests.Plugins;

/// <summary>Runs the dotnet CLI (and other tools) as child processes, with bounded waits and the output kept for failure messages.</summary>
public static class DotNetCli
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The configuration the tests were built in (Debug or Release), read from the test assembly's path.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>Runs a process to completion; fails the test (with its output) when it does not exit 0 in time.</summary>
    public static string Run(string fileName, string arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var (exitCode, output) = RunAllowingFailure(fileName, arguments, workingDirectory, environment, timeout);
        if (exitCode != 0)
        {
            Assert.Fail($"`{fileName} {arguments}` exited {exitCode}:\n{output}");
        }

        return output;
    }

    public static (int ExitCode, string Output) RunAllowingFailure(string fileName, string arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = StartInfo(fileName, arguments, workingDirectory, environment);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // The timed wait returns when the process exits even if a build server it started still holds the pipes.
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"`{fileName} {arguments}` did not finish in time:\n{Snapshot(output)}");
        }

        process.WaitForExit(TimeSpan.FromSeconds(5));
        return (process.ExitCode, Snapshot(output));
    }

    public static ProcessStartInfo StartInfo(string fileName, string arguments, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };

        // The test host runs under MSBuild/VSTest; their variables would confuse a nested dotnet build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>A fresh folder under the system temp folder, deleted by <see cref="DeleteQuietly"/>.</summary>
    /// <summary>
    /// Copies the built owin method into <paramref name="pluginsFolder"/> as the rocket command looks for plugins
    /// (&lt;folder&gt;/Rocket.Methods.Owin/Rocket.Methods.Owin.dll); returns that method's folder.
    /// </summary>
    public static string CopyOwinPlugin(string pluginsFolder) => CopyPlugin(pluginsFolder, "Rocket.Methods.Owin");

    public static string CopyProxyPlugin(string pluginsFolder) => CopyPlugin(pluginsFolder, "Rocket.Methods.Proxy");

    public static string CopyStaticPlugin(string pluginsFolder) => CopyPlugin(pluginsFolder, "Rocket.Methods.Static");

    private static string CopyPlugin(string pluginsFolder, string project)
    {
        var plugin = Directory.CreateDirectory(Path.Combine(pluginsFolder, project)).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot, project, "bin", Configuration, "net10.0")))
        {
            File.Copy(file, Path.Combine(plugin, Path.GetFileName(file)));
        }

        return plugin;
    }

    public static string NewTempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteQuietly(string? path)
    {
        try
        {
            if (path is not null && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rocket.Owin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Rocket.Owin.sln not found above " + AppContext.BaseDirectory);
    }
}
