using System.Diagnostics.Metrics;

namespace RocketOwin.Internal;

/// <summary>One measurement read from an instrument of the <c>Rocket</c> Meter: its value and tags (e.g. state=idle).</summary>
internal sealed record MetricSample(Instrument Instrument, double Value, KeyValuePair<string, object?>[] Tags)
{
    /// <summary>The tag values joined with commas ("idle", "2xx"); empty for an untagged instrument.</summary>
    public string TagText => string.Join(",", Tags.Select(t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>True for counters (values only grow); false for gauges and up-down counters.</summary>
    public bool IsCounter => Instrument.GetType() is { IsGenericType: true } type
        && (type.GetGenericTypeDefinition() == typeof(ObservableCounter<>) || type.GetGenericTypeDefinition() == typeof(Counter<>));
}
