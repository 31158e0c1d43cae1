using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// systemd socket activation: the real rocket command serves a listening socket passed as descriptor 3 with
/// LISTEN_PID/LISTEN_FDS, and the socket outlives a restart (a binary upgrade): a connection made while no rocket
/// runs waits in its queue and is answered by the next one.
/// </summary>
public class SocketActivationTests
{
    // What systemd does for a socket unit, in a few lines: hold the socket, fork, put it at fd 3, set the variables, exec.
    private const string Launcher = """
        import os, socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        print("port", s.getsockname()[1], flush=True)
        while sys.stdin.readline().strip() == "start":
            pid = os.fork()
            if pid == 0:
                if s.fileno() != 3:
                    os.dup2(s.fileno(), 3)
                os.set_inheritable(3, True)
                os.environ["LISTEN_PID"] = str(os.getpid())
                os.environ["LISTEN_FDS"] = "1"
                os.environ["LISTEN_FDNAMES"] = "http"
                os.execvp(sys.argv[1], sys.argv[1:])
            print("started", pid, flush=True)
            _, status = os.waitpid(pid, 0)
            print("exited", os.waitstatus_to_exitcode(status), flush=True)
        """;

    [Test]
    public void RocketServesAnInheritedSocketAndItKeepsListeningAcrossARestart()
    {
        var folder = DotNetCli.NewTempDirectory("rocket-activation-");
        try
        {
            var script = Path.Combine(folder, "launcher.py");
            File.WriteAllText(script, Launcher);
            var start = DotNetCli.StartInfo("python3", $"\"{script}\" dotnet \"{RocketProcess.RocketDll}\" --plugins \"{TestPlugins.SampleFolder}\" --method health --min-threads 2");
            using var launcher = new Process { StartInfo = start };
            var lines = new BlockingCollection<string>();
            var all = new ConcurrentQueue<string>();
            launcher.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    all.Enqueue(e.Data);
                    lines.Add(e.Data);
                }
            };
            launcher.ErrorDataReceived += (_, e) => all.Enqueue("stderr: " + e.Data);
            launcher.Start();
            launcher.BeginOutputReadLine();
            launcher.BeginErrorReadLine();
            try
            {
                string Next(string prefix)
                {
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                    while (DateTime.UtcNow < deadline)
                    {
                        if (lines.TryTake(out var line, TimeSpan.FromMilliseconds(200)) && line.StartsWith(prefix, StringComparison.Ordinal))
                        {
                            return line;
                        }
                    }

                    Assert.Fail($"no line starting with '{prefix}' within 60 s:\n{string.Join("\n", all)}");
                    return string.Empty;
                }

                var port = int.Parse(Next("port ")[5..]);
                var endPoint = new IPEndPoint(IPAddress.Loopback, port);

                for (var run = 1; run <= 2; run++)
                {
                    // Connected and asked before any rocket runs: the kernel queues it on the socket the launcher holds.
                    using var early = new RawClient(endPoint, timeoutMs: 60_000);
                    early.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

                    launcher.StandardInput.WriteLine("start");
                    var pid = int.Parse(Next("started ")[8..]);
                    Assert.That(Next("Listening on "), Does.StartWith($"Listening on http://127.0.0.1:{port} "), "rocket serves the inherited socket, binding nothing of its own");

                    var response = early.ReadResponse();
                    Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"), $"run {run}");
                    Assert.That(response.BodyText, Does.Contain("\"status\":\"ok\""));

                    DotNetCli.Run("kill", $"-TERM {pid}");
                    Assert.That(Next("exited "), Is.EqualTo("exited 0"), string.Join("\n", all));
                }

                launcher.StandardInput.WriteLine("stop");
                Assert.That(launcher.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);
            }
            finally
            {
                if (!launcher.HasExited)
                {
                    launcher.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            DotNetCli.DeleteQuietly(folder);
        }
    }

    [Test]
    public void LISTEN_FDSMeantForAnotherProcessIsIgnored()
    {
        // sd_listen_fds: LISTEN_PID names the process the sockets are for; one that inherited the variables binds its own.
        using var rocket = RocketProcess.Start(
            $"--plugins \"{TestPlugins.SampleFolder}\" --method health --bind 127.0.0.1:0",
            environment: new Dictionary<string, string> { ["LISTEN_PID"] = "1", ["LISTEN_FDS"] = "1" });
        var port = rocket.WaitForPort();
        Assert.That(port, Is.Not.Zero);
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }
}
