using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>The rocket command run as a user runs it: a child process, flags, a config file, signals.</summary>
[TestFixture]
public sealed class RocketCommandTests
{
    private static readonly string[] Flags =
        ["--method", "--bind", "--root", "--upstream", "--app", "--set", "--min-threads", "--max-threads", "--queue-size", "--timeout", "--limit", "--status", "--access-log", "--access-log-rotate", "--access-log-keep", "--plugins", "--client-certificates", "--config", "--list-methods", "--help"];

    private string _temp = null!;

    [OneTimeSetUp]
    public void PublishSample()
    {
        Assert.That(File.Exists(RocketProcess.RocketDll), Is.True, "rocket.dll is built with the tests: " + RocketProcess.RocketDll);
        _ = TestPlugins.SampleFolder;
        _temp = DotNetCli.NewTempDirectory("rocket-host");
    }

    [OneTimeTearDown]
    public void DeleteTemp() => DotNetCli.DeleteQuietly(_temp);

    [Test]
    public void HelpDocumentsEveryFlag()
    {
        var (code, stdout, _) = RocketProcess.Run("--help");
        Assert.That(code, Is.Zero);
        foreach (var flag in Flags)
        {
            Assert.That(stdout, Does.Contain(flag));
        }
    }

    [TestCase("--bogus", "--bogus")]
    [TestCase("--method health --min-threads many", "many")]
    [TestCase("--method health --bind 127.0.0.1", "bind '127.0.0.1'")]
    [TestCase("--method health --bind 127.0.0.1:0 --set novalue", "--set 'novalue'")]
    [TestCase("--method health --bind 127.0.0.1:0 --min-threads 0", "minThreads")]
    [TestCase("--bind 127.0.0.1:0", "no method given")]
    [TestCase("--method health --config /no/such/rocket.json", "/no/such/rocket.json")]
    public void BadFlagOrValueExitsNonZeroWithOneLineSayingWhat(string arguments, string named)
    {
        var (code, _, stderr) = RocketProcess.Run($"--plugins \"{TestPlugins.SampleFolder}\" {arguments}");
        Assert.That(code, Is.Not.Zero);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("rocket: ").And.Contain(named));
    }

    [Test]
    public void UnknownMethodExitsNonZeroWithOneLineNamingItAndThePluginsFolder()
    {
        var (code, _, stderr) = RocketProcess.Run($"--plugins \"{TestPlugins.SampleFolder}\" --method nosuch --bind 127.0.0.1:0");
        Assert.That(code, Is.EqualTo(1));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain("'nosuch'").And.Contain(TestPlugins.SampleFolder).And.Contain("health"));
    }

    [Test]
    public void PortInUseExitsNonZeroWithOneLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, _, stderr) = RocketProcess.Run($"--plugins \"{TestPlugins.SampleFolder}\" --method health --bind 127.0.0.1:{port}");
        Assert.That(code, Is.EqualTo(1));
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void ListMethodsPrintsEachMethodAndWhereItComesFrom()
    {
        var (code, stdout, _) = RocketProcess.Run($"--plugins \"{TestPlugins.SampleFolder}\" --list-methods");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("Plugins folder: " + TestPlugins.SampleFolder));
        Assert.That(stdout, Does.Match(@"health\s+CustomMethod\.HealthWorker in .*CustomMethod\.dll"));
    }

    [Test]
    public void ServesAPluginMethodFromFlagsAndStopsCleanlyOnSigterm()
    {
        using var rocket = RocketProcess.Start($"--plugins \"{TestPlugins.SampleFolder}\" --method health --bind 127.0.0.1:0 --set service=orders --min-threads 2 --max-threads 4 --timeout 30 --queue-size 64");
        var port = rocket.WaitForPort();
        Assert.That(Health(port).GetProperty("service").GetString(), Is.EqualTo("orders"));

        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
        Assert.That(rocket.Stdout, Does.Contain("Stopped."));
        Assert.That(rocket.Stderr, Is.Empty);
    }

    [Test]
    public void ServesFromAConfigFileAndFlagsOverrideIt()
    {
        var config = Path.Combine(_temp, "rocket.json");
        var relativePlugins = Path.GetRelativePath(_temp, TestPlugins.SampleFolder);
        File.WriteAllText(config, $$"""
            {
              // comments are allowed
              "method": "health",
              "bind": "127.0.0.1:1",
              "plugins": {{JsonSerializer.Serialize(relativePlugins)}},
              "set": { "service": "from-file" },
              "minThreads": 2,
            }
            """);

        using (var fromFile = RocketProcess.Start($"--config \"{config}\" --bind 127.0.0.1:0"))
        {
            Assert.That(Health(fromFile.WaitForPort()).GetProperty("service").GetString(), Is.EqualTo("from-file"));
            Assert.That(fromFile.Terminate(), Is.Zero);
        }

        using var overridden = RocketProcess.Start($"--config \"{config}\" --bind 127.0.0.1:0 --set service=from-flag");
        Assert.That(Health(overridden.WaitForPort()).GetProperty("service").GetString(), Is.EqualTo("from-flag"));
        Assert.That(overridden.Terminate(), Is.Zero);
    }

    [Test]
    public void ConfigFileWithAnUnknownKeyExitsWithOneLineNamingIt()
    {
        var config = Path.Combine(_temp, "typo.json");
        File.WriteAllText(config, """{ "method": "health", "min_threads": 2 }""");
        var (code, _, stderr) = RocketProcess.Run($"--config \"{config}\"");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith("rocket: ").And.Contain("min_threads").And.Not.Contain("\n"));
    }

    internal static JsonElement Health(int port)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
        client.Send("GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.EqualTo(200), response.BodyText);
        Assert.That(response.Header("Content-Type"), Is.EqualTo("application/json"));
        using var json = JsonDocument.Parse(response.Body);
        Assert.That(json.RootElement.GetProperty("status").GetString(), Is.EqualTo("ok"));
        return json.RootElement.Clone();
    }
}
