namespace RocketOwin.Internal;

/// <summary>What the status page shows at one moment: the Meter's measurements plus the derived request rate.</summary>
internal sealed class StatusReport(string method, string version, TimeSpan uptime, double requestsPerSecond, IReadOnlyList<MetricSample> samples)
{
    public string Method { get; } = method;

    public string Version { get; } = version;

    public TimeSpan Uptime { get; } = uptime;

    /// <summary>Requests answered per second over the last <see cref="StatusWorker.RateWindow"/>.</summary>
    public double RequestsPerSecond { get; } = requestsPerSecond;

    public IReadOnlyList<MetricSample> Samples { get; } = samples;

    /// <summary>The measurements grouped by instrument, in the order the instruments were created.</summary>
    public IEnumerable<IGrouping<string, MetricSample>> Instruments => Samples.GroupBy(s => s.Instrument.Name);

    /// <summary>The value of <paramref name="instrument"/> (with <paramref name="tag"/>, else the sum over its tags).</summary>
    public double Value(string instrument, string? tag = null)
        => Samples.Where(s => s.Instrument.Name == instrument && (tag is null || s.TagText == tag)).Sum(s => s.Value);

    /// <summary>The measurements of <paramref name="instrument"/> by tag text.</summary>
    public IEnumerable<MetricSample> Of(string instrument) => Samples.Where(s => s.Instrument.Name == instrument);
}
