using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>The header every report starts with: when, how (exact command), on what, from which commit.</summary>
internal static class RunInfo
{
    public static async Task<string> HeaderAsync(string title, CancellationToken cancellationToken)
    {
        var args = Environment.GetCommandLineArgs().Skip(1).ToArray();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## {title}").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Command: `dotnet run -c Release --project Rocket.Benchmarks -- {Shell.Join(args)}`");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Process: `{Shell.Join(ProcessCommandLine())}`");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Environment.ProcessorCount} cores, Linux {OsRelease()}, {RuntimeInformation.FrameworkDescription}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Source: {await GitDescriptionAsync(cancellationToken).ConfigureAwait(false)}, {BuildConfiguration()} build");
        return text.ToString();
    }

    /// <summary>How this process was started: <c>dotnet X.dll args</c>, or the apphost and args (dotnet run).</summary>
    private static string[] ProcessCommandLine()
    {
        var argv = Environment.GetCommandLineArgs(); // argv[0] is the .dll in both cases
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, .. argv] : [host, .. argv.Skip(1)];
    }

    /// <summary>"Release", or a loud "DEBUG" (numbers from a Debug build mean nothing).</summary>
    public static string BuildConfiguration() =>
        typeof(RunInfo).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true
            ? "**DEBUG (not optimised: use -c Release)**"
            : "Release";

    private static string OsRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static async Task<string> GitDescriptionAsync(CancellationToken cancellationToken)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !Directory.Exists(Path.Combine(directory.FullName, ".git")))
        {
            directory = directory.Parent;
        }
        if (directory is null)
        {
            return "commit unknown";
        }
        try
        {
            using var git = ChildProcess.Start("git", ["-C", directory.FullName, "describe", "--always", "--dirty", "--abbrev=10"]);
            var exitCode = await git.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return exitCode == 0 ? $"commit {git.Output.Trim()}" : "commit unknown (no commits yet?)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "commit unknown (git not found)";
        }
    }
}
