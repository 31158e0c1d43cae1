using System.Diagnostics;
using System.Text;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Host;

/// <summary>
/// Debian's chromium, headless, for tests that look at a page as a browser renders it. Installed by .ci/setup.sh
/// (run by the Test task of build.cake); <see cref="Require"/> runs that script once more if it is missing and skips
/// the test, saying why, when it still cannot be had (no root, no apt-get).
/// </summary>
public sealed class HeadlessChromium
{
    private static readonly Lazy<string?> Found = new(Locate);

    private HeadlessChromium(string executable) => Executable = executable;

    public string Executable { get; }

    public static HeadlessChromium Require()
    {
        var executable = Found.Value;
        if (executable is null)
        {
            Assert.Ignore("chromium is not installed and .ci/setup.sh could not install it (it needs root and apt-get); the status page was not checked in a browser.");
        }

        return new HeadlessChromium(executable!);
    }

    /// <summary>The page's DOM after loading (Chromium's --blink-settings=scriptEnabled=false also stops --dump-dom, so a page that must work without script forbids it with its Content-Security-Policy).</summary>
    public string DumpDom(Uri url) => Run($"--dump-dom {url}", out _);

    /// <summary>Saves a PNG of the page, <paramref name="width"/> by <paramref name="height"/> pixels.</summary>
    public void Screenshot(Uri url, string file, int width = 1200, int height = 1600)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.Delete(file);
        Run($"--hide-scrollbars --window-size={width},{height} --screenshot={file} {url}", out var stderr);
        Assert.That(File.Exists(file), Is.True, "chromium wrote no screenshot:\n" + stderr);
    }

    private static string? Locate()
    {
        string? Probe() => new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

        if (Probe() is { } present)
        {
            return present;
        }

        var setup = Path.Combine(DotNetCli.RepositoryRoot, ".ci", "setup.sh");
        DotNetCli.RunAllowingFailure("bash", $"\"{setup}\"", timeout: TimeSpan.FromMinutes(10));
        return Probe();
    }

    private string Run(string arguments, out string stderr)
    {
        var profile = DotNetCli.NewTempDirectory("chromium-profile");
        try
        {
            // A fresh profile and no background traffic: nothing but the page is fetched.
            var start = new ProcessStartInfo(Executable,
                $"--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=\"{profile}\" {arguments}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = new Process { StartInfo = start };
            var output = new StringBuilder();
            var errors = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("chromium did not finish within 60 s.");
            }

            process.WaitForExit();
            lock (errors)
            {
                stderr = errors.ToString();
            }

            lock (output)
            {
                return output.ToString();
            }
        }
        finally
        {
            DotNetCli.DeleteQuietly(profile);
        }
    }
}
