using System.Globalization;
namespace RocketOwin.Benchmarks.Harness;

/// <summary>
/// BENCHMARKING.md's placement: servers on core 0, the load generator on core 1, both at nice -10.
/// taskset and nice exec the program, so the PID we get is the program's own.
/// </summary>
internal static class Pinning
{
    public const int ServerCore = 0;
    public const int Niceness = -10;

    public static IReadOnlyList<string> Wrap(int core, string program, IEnumerable<string> arguments) =>
        ["taskset", "-c", core.ToString(CultureInfo.InvariantCulture),
         "nice", "-n", Niceness.ToString(CultureInfo.InvariantCulture),
         program, .. arguments];

    /// <summary>Fails with the install hint when a tool the runs need is missing.</summary>
    public static void RequireTools(params string[] tools)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        var missing = tools.Where(tool => !path.Any(dir => File.Exists(Path.Combine(dir, tool)))).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidOperationException(
                $"missing: {string.Join(", ", missing)}. Run `sudo bash bench/setup.sh` (installs wrk, nginx-light and haproxy).");
        }
    }
}
