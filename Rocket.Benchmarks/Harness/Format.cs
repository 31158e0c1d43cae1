using System.Globalization;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>Number formats shared by the reports (invariant culture).</summary>
internal static class Format
{
    public static string Rate(double requestsPerSecond) =>
        double.IsNaN(requestsPerSecond) ? "n/a" : requestsPerSecond.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ms(double milliseconds) =>
        double.IsNaN(milliseconds) ? "n/a" : milliseconds.ToString(milliseconds < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";

    public static string MiB(double kib) =>
        double.IsNaN(kib) ? "n/a" : (kib / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    public static string Number(double value, string format = "0.##") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    public static string Ratio(double candidate, double baseline) =>
        baseline > 0 && !double.IsNaN(candidate) ? (candidate / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";

    public static string Percent(double value) => value.ToString("0.#", CultureInfo.InvariantCulture) + "%";
}
