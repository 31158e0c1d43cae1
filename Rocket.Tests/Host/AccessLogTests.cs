using System.Net;
using System.Text.RegularExpressions;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>--access-log (Combined Log Format plus duration, rotated by NLog) and where nlog.config is looked for.</summary>
[TestFixture]
public sealed partial class AccessLogTests
{
    private string _temp = null!;

    private static string Plugins => $"--plugins \"{TestPlugins.SampleFolder}\"";

    [OneTimeSetUp]
    public void Setup() => _temp = DotNetCli.NewTempDirectory("rocket-access");

    [OneTimeTearDown]
    public void DeleteTemp() => DotNetCli.DeleteQuietly(_temp);

    [Test]
    public void AccessLogHasOneCombinedLogFormatLinePerRequestWithTheDuration()
    {
        var log = Path.Combine(_temp, "logs", "access.log");
        using (var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0 --access-log \"{log}\""))
        {
            var port = rocket.WaitForPort();
            Send(port, "GET /health?x=1 HTTP/1.1\r\nHost: t\r\nReferer: http://example.com/start\r\nUser-Agent: Test \"agent\" 1.0\r\nConnection: close\r\n\r\n");
            Send(port, "GET /nohost HTTP/1.1\r\nConnection: close\r\n\r\n");
            Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
            Assert.That(rocket.Stdout, Does.Not.Contain("\"GET /health?x=1 HTTP/1.1\" 200"), "access lines go to the access log only");
        }

        var lines = File.ReadAllLines(log);
        Assert.That(lines, Has.Length.EqualTo(2), string.Join("\n", lines));
        var ok = CombinedLine().Match(lines[0]);
        Assert.That(ok.Success, Is.True, lines[0]);
        Assert.That(ok.Groups["host"].Value, Is.EqualTo("127.0.0.1"));
        Assert.That(DateTimeOffset.ParseExact(ok.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(DateTimeOffset.Now).Within(TimeSpan.FromMinutes(2)));
        Assert.That(ok.Groups["request"].Value, Is.EqualTo("GET /health?x=1 HTTP/1.1"));
        Assert.That(ok.Groups["status"].Value, Is.EqualTo("200"));
        Assert.That(long.Parse(ok.Groups["bytes"].Value), Is.GreaterThan(20));
        Assert.That(ok.Groups["referer"].Value, Is.EqualTo("http://example.com/start"));
        Assert.That(ok.Groups["agent"].Value, Is.EqualTo("Test \\\"agent\\\" 1.0"), "quotes escaped as Apache does");
        Assert.That(long.Parse(ok.Groups["micros"].Value), Is.GreaterThanOrEqualTo(0).And.LessThan(60_000_000));

        var rejected = CombinedLine().Match(lines[1]);
        Assert.That(rejected.Success, Is.True, lines[1]);
        Assert.That(rejected.Groups["request"].Value + " " + rejected.Groups["status"].Value + " " + rejected.Groups["bytes"].Value, Is.EqualTo("GET /nohost HTTP/1.1 400 -"));
        Assert.That(rejected.Groups["referer"].Value + rejected.Groups["agent"].Value, Is.EqualTo("--"));
    }

    [Test]
    public void WithoutAnAccessLogTheConsoleHasRocketsRequestLineOnly()
    {
        using var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0");
        Send(rocket.WaitForPort(), "GET /console-only HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
        Assert.That(rocket.Stdout, Does.Contain("Rocket.Requests 127.0.0.1 - \"GET /console-only HTTP/1.1\" - 200"));
        Assert.That(rocket.Stdout, Does.Not.Contain("Rocket.Access"), "the access log is off unless asked for");
    }

    [Test]
    public void AccessLogRotatesAtTheGivenSizeAndKeepsTheGivenNumberOfFiles()
    {
        var folder = Path.Combine(_temp, "rotate");
        var log = Path.Combine(folder, "access.log");
        using (var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0 --access-log \"{log}\" --access-log-rotate 1KiB --access-log-keep 2"))
        {
            var port = rocket.WaitForPort();
            for (var i = 0; i < 40; i++)
            {
                Send(port, $"GET /{i} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            }

            Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
        }

        // Rotated files are numbered on (access_01.log, access_02.log, ...); past --access-log-keep the oldest go.
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.That(files, Has.Count.EqualTo(3), string.Join(", ", files));
        Assert.That(files, Does.Contain("access.log"));
        Assert.That(files.Where(f => f != "access.log"), Is.All.Match(@"^access_\d{2}\.log$"));
        foreach (var f in files)
        {
            Assert.That(new FileInfo(Path.Combine(folder, f!)).Length, Is.LessThan(1024 + 200), f);
        }

        Assert.That(File.ReadAllLines(log)[^1], Does.Contain("\"GET /39 HTTP/1.1\" 200"));
    }

    [Test]
    public void NlogConfigIsReadFromTheWorkingFolderThenBesideTheConfigFile()
    {
        var work = Path.Combine(_temp, "work");
        var etc = Path.Combine(_temp, "etc");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(etc);
        var config = Path.Combine(etc, "rocket.json");
        File.WriteAllText(config, $$"""{ "method": "health", "bind": "127.0.0.1:0", "plugins": {{System.Text.Json.JsonSerializer.Serialize(TestPlugins.SampleFolder)}} }""");
        File.WriteAllText(Path.Combine(etc, "nlog.config"), NLogConfig(Path.Combine(etc, "requests.log")));

        RunOneRequest(config, work);
        Assert.That(File.ReadAllText(Path.Combine(etc, "requests.log")), Does.Contain("\"GET /beside-config HTTP/1.1\" - 200"));

        File.WriteAllText(Path.Combine(work, "nlog.config"), NLogConfig(Path.Combine(work, "requests.log")));
        RunOneRequest(config, work);
        Assert.That(File.ReadAllText(Path.Combine(work, "requests.log")), Does.Contain("\"GET /beside-config HTTP/1.1\" - 200"), "the working folder's wins");
    }

    private static void RunOneRequest(string config, string workingDirectory)
    {
        using var rocket = RocketProcess.Start($"--config \"{config}\"", workingDirectory);
        Send(rocket.WaitForPort(), "GET /beside-config HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    private static string NLogConfig(string file) => $$"""
        <nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
          <targets><target xsi:type="File" name="f" fileName="{{file}}" layout="${logger} ${message}" /></targets>
          <rules><logger name="Rocket.Requests" minlevel="Info" writeTo="f" /></rules>
        </nlog>
        """;

    private static void Send(int port, string request)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
        client.Send(request);
        client.ReadResponse();
    }

    // host ident user [time] "request" status bytes "referer" "agent" microseconds
    [GeneratedRegex("""^(?<host>\S+) - - \[(?<time>[^\]]+)\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}) (?<bytes>\d+|-) "(?<referer>(?:[^"\\]|\\.)*)" "(?<agent>(?:[^"\\]|\\.)*)" (?<micros>\d+)$""")]
    private static partial Regex CombinedLine();
}
