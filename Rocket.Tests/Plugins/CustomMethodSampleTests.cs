using System.Text.Json;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Plugins;

/// <summary>samples/CustomMethod published with dotnet publish into a plugins folder and served, as a user would do it.</summary>
[TestFixture]
public sealed class CustomMethodSampleTests
{
    [OneTimeSetUp]
    public void PublishSample()
    {
        TestLogging.EnsureConfigured();
        _ = TestPlugins.SampleFolder;
    }

    [Test]
    public void PublishedSampleFolderHoldsOnlyThePluginsOwnFiles()
    {
        var folder = Path.Combine(TestPlugins.SampleFolder, "CustomMethod");
        Assert.That(File.Exists(Path.Combine(folder, "CustomMethod.dll")), Is.True);
        Assert.That(File.Exists(Path.Combine(folder, "CustomMethod.deps.json")), Is.True);
        Assert.That(File.Exists(Path.Combine(folder, "Rocket.Core.dll")), Is.False);
        Assert.That(File.Exists(Path.Combine(folder, "NLog.dll")), Is.False);
    }

    [Test]
    public void HealthMethodDroppedIntoAPluginsFolderServesJsonStatus()
    {
        var appInfo = new AppInfo { ["service"] = "orders" };
        using var server = new Rocket(("127.0.0.1", 0), "health", appInfo, minThreads: 2, handleSignals: false) { PluginsDirectory = TestPlugins.SampleFolder };
        server.Start(background: true);

        using var first = JsonDocument.Parse(PluginLoadingTests.Get(server, "/healthz"));
        using var second = JsonDocument.Parse(PluginLoadingTests.Get(server, "/"));
        Assert.That(first.RootElement.GetProperty("status").GetString(), Is.EqualTo("ok"));
        Assert.That(first.RootElement.GetProperty("service").GetString(), Is.EqualTo("orders"));
        Assert.That(first.RootElement.GetProperty("version").GetString(), Is.EqualTo("0.1.0"));
        Assert.That(first.RootElement.GetProperty("uptimeSeconds").GetDouble(), Is.GreaterThanOrEqualTo(0));
        Assert.That(first.RootElement.GetProperty("requests").GetInt64(), Is.EqualTo(1));
        Assert.That(second.RootElement.GetProperty("requests").GetInt64(), Is.EqualTo(2));
    }

    [Test]
    public void HealthMethodRejectsAnEmptyServiceName()
    {
        using var server = new Rocket(("127.0.0.1", 0), "health", new AppInfo { ["service"] = string.Empty }, minThreads: 2, handleSignals: false) { PluginsDirectory = TestPlugins.SampleFolder };
        var e = Assert.Throws<ArgumentException>(() => server.Start(background: true))!;
        Assert.That(e.Message, Does.Contain("service"));
    }
}
