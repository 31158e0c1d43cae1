using System.Diagnostics.Metrics;

namespace RocketOwin.Internal;

/// <summary>
/// Reads one server's <c>Rocket</c> Meter through a <see cref="MeterListener"/>, as dotnet-counters or OpenTelemetry
/// would: the status page shows exactly what the Meter publishes. Other servers' Meters of the same name (several
/// Rockets in one process) are left alone.
/// </summary>
internal sealed class MetricsReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private List<MetricSample>? _samples;

    public MetricsReader(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Every instrument's current measurements, in the order the instruments were created.</summary>
    public IReadOnlyList<MetricSample> Read()
    {
        lock (_lock)
        {
            _samples = [];
            _listener.RecordObservableInstruments();
            var result = _samples;
            _samples = null;
            return result;
        }
    }

    public void Dispose() => _listener.Dispose();

    // Runs on the thread calling Read (observable instruments report synchronously), under the lock.
    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => _samples?.Add(new MetricSample(instrument, value, tags.ToArray()));
}
