namespace RocketOwin.Benchmarks.Harness;

/// <summary>Progress goes to stderr, so stdout carries only the Markdown report.</summary>
internal static class Log
{
    public static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
