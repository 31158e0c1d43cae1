using System.Reflection;

namespace RocketOwin.Tests.Unit;

public class ServerLimitsTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>Each limit: its default, a valid value, and values the setter must refuse.</summary>
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case(nameof(ServerLimits.MaxRequestLineLength), 8192, 64, [63, 0, -1, 1024 * 1024 + 1]);
        yield return Case(nameof(ServerLimits.MaxRequestHeadersTotalSize), 32768, 256, [255, -1, 16 * 1024 * 1024 + 1]);
        yield return Case(nameof(ServerLimits.MaxRequestHeaderCount), 100, 1, [0, -1, 100_001]);
        yield return Case(nameof(ServerLimits.MaxRequestBodySize), (long?)30_000_000, (long?)0, [(long?)-1]);
        yield return Case(nameof(ServerLimits.MaxUnreadBodyToDrain), 65536L, 0L, [-1L]);
        yield return Case(nameof(ServerLimits.MaxRequestsPerTurn), 64, 1, [0, 1_000_001]);
        yield return Case(nameof(ServerLimits.ResponseBufferSize), 16384, 512, [511, 16 * 1024 * 1024 + 1]);
        yield return Case(nameof(ServerLimits.RequestHeadersTimeout), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(1), [TimeSpan.Zero, TimeSpan.FromSeconds(-1), Day + TimeSpan.FromTicks(1)]);
        yield return Case(nameof(ServerLimits.IOTimeout), TimeSpan.FromSeconds(60), Day, [TimeSpan.Zero, TimeSpan.FromSeconds(-1)]);
        yield return Case(nameof(ServerLimits.TlsHandshakeTimeout), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), [TimeSpan.Zero, TimeSpan.MaxValue]);
        yield return Case(nameof(ServerLimits.ShutdownTimeout), TimeSpan.FromSeconds(30), TimeSpan.Zero, [TimeSpan.FromTicks(-1)]);
        yield return Case(nameof(ServerLimits.MaxConcurrentConnections), (long?)null, (long?)1, [(long?)0, (long?)-1, (long?)int.MaxValue + 1]);
        yield return Case(nameof(ServerLimits.MinRequestBodyDataRate), (double?)240, (double?)0.5, [(double?)0, (double?)-1, (double?)double.NaN]);
        yield return Case(nameof(ServerLimits.MinRequestBodyDataRateGracePeriod), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), [TimeSpan.FromMilliseconds(999), TimeSpan.Zero, Day + TimeSpan.FromTicks(1)]);
        yield return Case(nameof(ServerLimits.MinResponseDataRate), (double?)240, (double?)1e6, [(double?)0, (double?)-240, (double?)double.PositiveInfinity]);
        yield return Case(nameof(ServerLimits.MinResponseDataRateGracePeriod), TimeSpan.FromSeconds(5), Day, [TimeSpan.FromMilliseconds(999), TimeSpan.FromSeconds(-5)]);
        yield return Case(nameof(ServerLimits.UnreadBodyDrainTimeout), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(10), [TimeSpan.Zero, TimeSpan.FromSeconds(-1)]);
        yield return Case(nameof(ServerLimits.ShutdownIdleGrace), TimeSpan.FromSeconds(1), TimeSpan.Zero, [TimeSpan.FromTicks(-1), Day + TimeSpan.FromTicks(1)]);
        yield return Case(nameof(ServerLimits.QuietCollectionDelay), (TimeSpan?)TimeSpan.FromSeconds(5), (TimeSpan?)TimeSpan.FromSeconds(1), [(TimeSpan?)TimeSpan.FromMilliseconds(999), (TimeSpan?)TimeSpan.Zero, (TimeSpan?)(Day + TimeSpan.FromTicks(1))]);
        yield return Case(nameof(ServerLimits.ThreadIdleTimeout), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100), [TimeSpan.Zero, TimeSpan.FromSeconds(-5)]);
    }

    private static TestCaseData Case(string name, object? defaultValue, object? valid, object?[] invalid)
        => new TestCaseData(name, defaultValue, valid, invalid).SetName($"LimitValidates{name}");

    [TestCaseSource(nameof(Cases))]
    public void LimitHasItsDocumentedDefaultAcceptsValidValuesAndRefusesInvalidOnes(string name, object? defaultValue, object? valid, object?[] invalid)
    {
        var property = typeof(ServerLimits).GetProperty(name, BindingFlags.Public | BindingFlags.Instance)!;
        var limits = new ServerLimits();
        Assert.That(property.GetValue(limits), Is.EqualTo(defaultValue), "default");

        property.SetValue(limits, valid);
        Assert.That(property.GetValue(limits), Is.EqualTo(valid), "valid value kept");

        foreach (var bad in invalid)
        {
            var e = Assert.Throws<TargetInvocationException>(() => property.SetValue(limits, bad))!.InnerException;
            Assert.That(e, Is.InstanceOf<ArgumentOutOfRangeException>(), $"{bad}");
            Assert.That(e!.Message, Does.Contain(name).And.Contain(Convert.ToString(bad, System.Globalization.CultureInfo.InvariantCulture)!), $"{bad}");
            Assert.That(property.GetValue(limits), Is.EqualTo(valid), $"{bad} left the valid value in place");
        }
    }

    [Test]
    public void MaxRequestBodySizeAcceptsNullForNoLimit()
    {
        var limits = new ServerLimits { MaxRequestBodySize = null };
        Assert.That(limits.MaxRequestBodySize, Is.Null);
    }

    [Test]
    public void EveryPublicLimitIsCovered()
    {
        var covered = Cases().Select(c => (string)c.Arguments[0]!).ToHashSet();
        var all = typeof(ServerLimits).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        Assert.That(all.Where(n => !covered.Contains(n)), Is.Empty, "a new limit needs its default/invalid/valid case here");
    }
}
