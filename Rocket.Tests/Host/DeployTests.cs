using System.Net;
using System.Text.RegularExpressions;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>deploy/: the instance config runs as is, the balancer configs pass their own checkers, the unit drains before SIGKILL.</summary>
[TestFixture]
public sealed class DeployTests
{
    private static readonly string Deploy = Path.Combine(DotNetCli.RepositoryRoot, "deploy");

    [Test]
    public void InstanceConfigServesWithItsStatusPageAndAccessLog()
    {
        var temp = DotNetCli.NewTempDirectory("deploy");
        try
        {
            // The static method as a plugin, the way the installed tool carries it.
            var plugin = Path.Combine(temp, "plugins", "Rocket.Methods.Static");
            Directory.CreateDirectory(plugin);
            foreach (var file in Directory.GetFiles(Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Methods.Static", "bin", DotNetCli.Configuration, "net10.0"), "Rocket.Methods.Static.*"))
            {
                File.Copy(file, Path.Combine(plugin, Path.GetFileName(file)));
            }

            var www = Directory.CreateDirectory(Path.Combine(temp, "www")).FullName;
            File.WriteAllText(Path.Combine(www, "index.html"), "<h1>deployed</h1>");
            var log = Path.Combine(temp, "access-1.log");
            var config = File.ReadAllText(Path.Combine(Deploy, "instance.json"))
                .Replace("/srv/www", www, StringComparison.Ordinal)
                .Replace("/var/log/rocket/access-1.log", log, StringComparison.Ordinal)
                .Replace("127.0.0.1:8081", "127.0.0.1:0", StringComparison.Ordinal)
                .Replace("127.0.0.1:9081", "127.0.0.1:0", StringComparison.Ordinal);
            var file1 = Path.Combine(temp, "1.json");
            File.WriteAllText(file1, config);

            using (var rocket = RocketProcess.Start($"--config \"{file1}\" --plugins \"{Path.Combine(temp, "plugins")}\""))
            {
                var port = rocket.WaitForPort();
                using (var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port)))
                {
                    client.Send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                    Assert.That(client.ReadResponse().BodyText, Is.EqualTo("<h1>deployed</h1>"));
                }

                var status = Regex.Match(rocket.Stdout, @"Status page on http://127\.0\.0\.1:(\d+)/");
                Assert.That(status.Success, Is.True, rocket.Stdout);
                using (var client = new RawClient(new IPEndPoint(IPAddress.Loopback, int.Parse(status.Groups[1].Value))))
                {
                    client.Send("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                    Assert.That(PrometheusText.Parse(client.ReadResponse().BodyText).Value("rocket_requests_total", "status_class", "2xx"), Is.EqualTo(1));
                }

                Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
            }

            Assert.That(File.ReadAllText(log), Does.Contain("\"GET / HTTP/1.1\" 200 17 "));
        }
        finally
        {
            DotNetCli.DeleteQuietly(temp);
        }
    }

    [Test]
    public void UnitReloadsWithSigusr1AndWaitsLongerThanTheDrain()
    {
        var unit = File.ReadAllText(Path.Combine(Deploy, "rocket@.service"));
        Assert.That(unit, Does.Contain("ExecReload=/bin/kill -USR1 $MAINPID"));
        Assert.That(unit, Does.Contain("KillSignal=SIGTERM"));
        var stop = int.Parse(Regex.Match(unit, @"^TimeoutStopSec=(\d+)$", RegexOptions.Multiline).Groups[1].Value);
        var drain = int.Parse(Regex.Match(File.ReadAllText(Path.Combine(Deploy, "instance.json")), "\"ShutdownTimeout\": \"(\\d+)s\"").Groups[1].Value);
        Assert.That(stop, Is.GreaterThan(drain), "systemd must not SIGKILL a drain in progress");
    }

    [Test]
    public void HaproxyConfigIsValid() => Check("haproxy", $"-c -f \"{Path.Combine(Deploy, "haproxy.cfg")}\"");

    [Test]
    public void NginxConfigIsValid()
    {
        var prefix = DotNetCli.NewTempDirectory("nginx-check");
        try
        {
            Check("nginx", $"-t -p \"{prefix}\" -c \"{Path.Combine(Deploy, "nginx.conf")}\"");
        }
        finally
        {
            DotNetCli.DeleteQuietly(prefix);
        }
    }

    private static void Check(string tool, string arguments)
    {
        var path = new[] { "/usr/sbin/", "/usr/bin/", "/usr/local/sbin/" }.Select(d => d + tool).FirstOrDefault(File.Exists);
        if (path is null)
        {
            Assert.Ignore($"{tool} is not installed (bench/setup.sh installs it); its config was not checked.");
        }

        var (code, output) = DotNetCli.RunAllowingFailure(path!, arguments, timeout: TimeSpan.FromSeconds(30));
        Assert.That(code, Is.Zero, output);
    }
}
