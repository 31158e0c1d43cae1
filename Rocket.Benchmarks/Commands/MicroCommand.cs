using System.CommandLine;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>micro [BenchmarkDotNet arguments]</c>: the BenchmarkDotNet classes in Micro/, run in-process
/// (InProcessEmitToolchain: no separate project is generated and built, which works on these machines).
/// Without a <c>--filter</c> every benchmark runs (<c>--filter *</c>).
/// </summary>
internal static class MicroCommand
{
    public static Command Create()
    {
        var command = new Command("micro", "BenchmarkDotNet micro-benchmarks in Micro/ (in-process; extra arguments go to BenchmarkDotNet, e.g. --filter *RoundTrip*).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(parse => Run([.. parse.UnmatchedTokens]));
        return command;
    }

    private static int Run(string[] benchmarkArgs)
    {
        // As for serve-rocket (read when the socket engine starts, which has not happened yet here).
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        var args = new List<string>(benchmarkArgs);
        // --inProcess applies InProcessEmitToolchain to every job, including ones chosen with --job.
        if (!args.Any(a => a is "--inProcess" or "-i"))
        {
            args.Add("--inProcess");
        }
        // Without a filter BenchmarkDotNet asks interactively which benchmarks to run: run them all instead.
        if (!args.Any(a => a is "--filter" or "-f" or "--list" or "--help" or "-h" or "--info" or "--version"))
        {
            args.AddRange(["--filter", "*"]);
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroCommand).Assembly).Run([.. args], DefaultConfig.Instance);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
