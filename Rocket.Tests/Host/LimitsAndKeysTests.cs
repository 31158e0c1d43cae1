using System.Net;
using System.Reflection;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>--limit and the config file's limits; unknown appInfo keys; errors that name what the user typed.</summary>
[TestFixture]
public sealed class LimitsAndKeysTests
{
    private string _temp = null!;

    private static string Plugins => $"--plugins \"{TestPlugins.SampleFolder}\"";

    [OneTimeSetUp]
    public void Setup() => _temp = DotNetCli.NewTempDirectory("rocket-limits");

    [OneTimeTearDown]
    public void DeleteTemp() => DotNetCli.DeleteQuietly(_temp);

    [Test]
    public void LimitFromTheCommandLineIsEnforced()
    {
        using var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0 --limit maxrequestbodysize=1KiB --limit RequestHeadersTimeout=20s");
        var port = rocket.WaitForPort();
        Assert.That(Post(port, 1024), Is.EqualTo(200));
        Assert.That(Post(port, 1025), Is.EqualTo(413));
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    [Test]
    public void LimitsFromTheConfigFileAreEnforcedAndFlagsOverrideThem()
    {
        var config = Path.Combine(_temp, "limits.json");
        File.WriteAllText(config, """{ "method": "health", "limits": { "MaxRequestBodySize": "2KiB", "IOTimeout": 30 } }""");
        using (var fromFile = RocketProcess.Start($"{Plugins} --config \"{config}\" --bind 127.0.0.1:0"))
        {
            var port = fromFile.WaitForPort();
            Assert.That(Post(port, 2048), Is.EqualTo(200));
            Assert.That(Post(port, 2049), Is.EqualTo(413));
            Assert.That(fromFile.Terminate(), Is.Zero);
        }

        using var overridden = RocketProcess.Start($"{Plugins} --config \"{config}\" --bind 127.0.0.1:0 --limit MaxRequestBodySize=none");
        Assert.That(Post(overridden.WaitForPort(), 4096), Is.EqualTo(200));
        Assert.That(overridden.Terminate(), Is.Zero);
    }

    /// <summary>Limits are found by reflection: every settable ServerLimits property, today's and any added later, is a --limit name.</summary>
    [Test]
    public void EveryServerLimitsPropertyIsAcceptedByName()
    {
        var defaults = new ServerLimits();
        var flags = new List<string>();
        foreach (var p in typeof(ServerLimits).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var value = p.GetValue(defaults);
            var text = value switch
            {
                null => "none",
                TimeSpan t => $"{t.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}ms",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => value.ToString(),
            };
            flags.Add($"--limit \"{p.Name.ToUpperInvariant()}={text}\"");
        }

        Assert.That(flags, Has.Count.GreaterThanOrEqualTo(12));
        var (_, help, _) = RocketProcess.Run("--help");
        foreach (var p in typeof(ServerLimits).GetProperties().Where(p => p.SetMethod is { IsPublic: true }))
        {
            Assert.That(help, Does.Contain(p.Name), "--help lists every limit");
        }

        using var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0 {string.Join(' ', flags)}");
        rocket.WaitForPort();
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    [TestCase("--limit MaxBodySize=1MiB", "--limit MaxBodySize=1MiB: no such limit; did you mean MaxRequestBodySize?")]
    [TestCase("--limit MaxRequestBodySize=lots", "--limit MaxRequestBodySize=lots: expected a whole number, or a size")]
    [TestCase("--limit MaxRequestLineLength=1", "--limit MaxRequestLineLength=1: MaxRequestLineLength must be from 64 to")]
    [TestCase("--limit RequestHeadersTimeout=soon", "--limit RequestHeadersTimeout=soon: expected a duration")]
    [TestCase("--limit IOTimeout=0ms", "--limit IOTimeout=0ms: IOTimeout must be more than 0")]
    [TestCase("--limit MaxRequestHeaderCount=1GiB", "--limit MaxRequestHeaderCount=1GiB: MaxRequestHeaderCount must be from 1 to")]
    [TestCase("--limit MaxRequestLineLength=5GiB", "too large for MaxRequestLineLength")]
    [TestCase("--limit IOTimeout", "--limit 'IOTimeout': expected NAME=VALUE")]
    [TestCase("--set servce=orders", "--set servce=orders: not a setting of method 'health'; did you mean service?")]
    [TestCase("--set colour=blue", "--set colour=blue: not a setting of method 'health' (its settings: service)")]
    [TestCase("--status 127.0.0.1", "--status 127.0.0.1: expected ADDRESS:PORT")]
    [TestCase("--status 127.0.0.1:70000", "--status 127.0.0.1:70000: port 70000")]
    [TestCase("--access-log-rotate 1MiB", "--access-log-rotate and --access-log-keep need --access-log FILE")]
    public void BadLimitKeyOrValueExitsTwoWithOneLineNamingTheFlag(string arguments, string expected)
    {
        var (code, _, stderr) = RocketProcess.Run($"{Plugins} --method health --bind 127.0.0.1:0 {arguments}");
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("rocket: " + (expected.StartsWith("--", StringComparison.Ordinal) ? expected : string.Empty)).And.Contain(expected));
        Assert.That(lines[0], Does.Not.Contain("Parameter '").And.Not.Contain("Exception").And.Not.Contain("Actual value"));
    }

    [Test]
    public void ConfigFileErrorsNameTheFileAndTheEntry()
    {
        var config = Path.Combine(_temp, "typos.json");
        File.WriteAllText(config, """{ "method": "health", "bind": "127.0.0.1:0", "set": { "servise": "x" } }""");
        var (code, _, stderr) = RocketProcess.Run($"{Plugins} --config \"{config}\"");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo($"rocket: {config}: set.servise: not a setting of method 'health'; did you mean service? (its settings: service)."));

        File.WriteAllText(config, """{ "method": "health", "limits": { "MaxRequestBodySise": 5 } }""");
        (code, _, stderr) = RocketProcess.Run($"{Plugins} --config \"{config}\"");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"rocket: {config}: limits.MaxRequestBodySise: no such limit; did you mean MaxRequestBodySize?"));

        File.WriteAllText(config, """{ "method": "health", "limts": { } }""");
        (code, _, stderr) = RocketProcess.Run($"{Plugins} --config \"{config}\"");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"rocket: {config}: unknown setting 'limts'; did you mean limits?"));
    }

    [Test]
    public void AValueTheMethodRefusesIsNamedByTheFlagNotTheInternalKey()
    {
        var (code, _, stderr) = RocketProcess.Run($"{Plugins} --method health --bind 127.0.0.1:0 --set service=");
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr.Trim(), Is.EqualTo("rocket: --set service=: expected a service name of 1 to 100 characters."));
    }

    private static int Post(int port, int bodyLength)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
        client.Send($"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: {bodyLength}\r\nConnection: close\r\n\r\n" + new string('x', bodyLength));
        return client.ReadResponse().StatusCode;
    }
}
