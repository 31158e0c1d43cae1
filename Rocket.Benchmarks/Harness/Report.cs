namespace RocketOwin.Benchmarks.Harness;

/// <summary>Where a command's Markdown report goes: stdout always, and the --output file when given.</summary>
internal static class Report
{
    public static async Task PublishAsync(string report, FileInfo? output, CancellationToken cancellationToken)
    {
        Console.Out.Write(report);
        if (output is null)
        {
            return;
        }

        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report, cancellationToken).ConfigureAwait(false);
        Log.Progress($"report written to {output.FullName}");
    }
}
