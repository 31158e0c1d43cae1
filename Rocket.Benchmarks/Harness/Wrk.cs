using System.Globalization;
using System.Text.RegularExpressions;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>
/// What one wrk run reported. Errors: socket errors and non-2xx/3xx responses as wrk words them; empty when none.
/// </summary>
internal sealed record WrkResult(double RequestsPerSecond, double P99Milliseconds, long Requests, string Errors);

/// <summary>Runs wrk pinned to its own core and parses its report.</summary>
internal static partial class Wrk
{
    public const int Core = 1;

    /// <summary>The command line (for reports) of one run.</summary>
    public static IReadOnlyList<string> Command(string url, int connections, int seconds) =>
        Pinning.Wrap(Core, "wrk", ["-t1", $"-c{connections}", $"-d{seconds}s", "--latency", url]);

    public static async Task<WrkResult> RunAsync(string url, int connections, int seconds, CancellationToken cancellationToken)
    {
        var command = Command(url, connections, seconds);
        using var wrk = ChildProcess.Start(command[0], command.Skip(1).ToArray());
        // wrk stops itself after -d; the margin covers its start-up and the last slow responses.
        var exitCode = await wrk.WaitForExitAsync(TimeSpan.FromSeconds(seconds + 30), cancellationToken).ConfigureAwait(false);
        var output = wrk.Output;
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"wrk exited with {exitCode}: {wrk.CommandLine}\n{output}");
        }
        return Parse(output);
    }

    /// <summary>Parses wrk 4.x output ("Requests/sec:", the "99%" latency line, error lines).</summary>
    public static WrkResult Parse(string output)
    {
        var rate = RateLine().Match(output);
        var p99 = P99Line().Match(output);
        var requests = RequestsLine().Match(output);
        if (!rate.Success || !p99.Success || !requests.Success)
        {
            throw new InvalidDataException("unexpected wrk output (was --latency given?):\n" + output);
        }
        var errors = new List<string>();
        var socketErrors = SocketErrorsLine().Match(output);
        if (socketErrors.Success)
        {
            errors.Add("socket errors: " + socketErrors.Groups[1].Value.Trim());
        }
        var non2xx = Non2xxLine().Match(output);
        if (non2xx.Success)
        {
            errors.Add("non-2xx/3xx: " + non2xx.Groups[1].Value);
        }
        return new WrkResult(
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            Milliseconds(p99.Groups[1].Value, p99.Groups[2].Value),
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            string.Join("; ", errors));
    }

    private static double Milliseconds(string number, string unit)
    {
        var value = double.Parse(number, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            "m" => value * 60_000,
            _ => throw new InvalidDataException($"unknown latency unit {unit}"),
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s+99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99Line();

    [GeneratedRegex(@"^\s+(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"^\s+Socket errors:(.*)$", RegexOptions.Multiline)]
    private static partial Regex SocketErrorsLine();

    [GeneratedRegex(@"^\s+Non-2xx or 3xx responses:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex Non2xxLine();
}
