using System.CommandLine;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>micro [BenchmarkDotNet arguments]</c>: the BenchmarkDotNet classes in Micro/, run in-process
/// (InProcessEmitToolchain: no separate project is generated and built, which works on these machines).
/// Without arguments every benchmark runs (<c>--filter *</c>).
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
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroCommand).Assembly)
            .Run(benchmarkArgs.Length > 0 ? benchmarkArgs : ["--filter", "*"], config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
