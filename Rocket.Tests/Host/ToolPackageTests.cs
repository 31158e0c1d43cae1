using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Host;

/// <summary>
/// Rocket.Host packed as the Rocket.Owin.Tool .NET tool (with a plugins folder inside, here samples/CustomMethod),
/// installed with <c>dotnet tool install --tool-path</c> into a temp folder and run through its <c>rocket</c> shim.
/// </summary>
[TestFixture]
public sealed class ToolPackageTests
{
    private string _temp = null!;
    private string _rocket = null!;
    private Dictionary<string, string> _environment = null!;

    [OneTimeSetUp]
    public void PackAndInstall()
    {
        _temp = DotNetCli.NewTempDirectory("rocket-tool");
        var feed = Path.Combine(_temp, "feed");
        var project = Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Host", "Rocket.Host.csproj");
        var plugins = TestPlugins.SampleFolder + Path.DirectorySeparatorChar;
        DotNetCli.Run("dotnet", $"pack \"{project}\" -c {DotNetCli.Configuration} --no-build -o \"{feed}\" -p:RocketPluginsDir=\"{plugins}\" -nodeReuse:false -v:m");
        Assert.That(Directory.GetFiles(feed, "Rocket.Owin.Tool.*.nupkg"), Has.Length.EqualTo(1));

        // Only the local feed, and a private package cache: a tool package of the same version from an earlier run
        // must not be picked up from the machine-wide cache.
        var config = Path.Combine(_temp, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        _environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(_temp, "packages"),
            ["DOTNET_ROOT"] = dotnetRoot,
            ["ROCKET_PLUGINS"] = string.Empty,
        };
        var tools = Path.Combine(_temp, "tools");
        DotNetCli.Run("dotnet", $"tool install Rocket.Owin.Tool --tool-path \"{tools}\" --configfile \"{config}\"", _temp, _environment);
        _rocket = Path.Combine(tools, "rocket");
        Assert.That(File.Exists(_rocket), Is.True, "the tool's rocket command");
    }

    [OneTimeTearDown]
    public void DeleteTemp() => DotNetCli.DeleteQuietly(_temp);

    [Test]
    public void InstalledToolRunsHelp()
    {
        var (code, stdout, stderr) = RocketProcess.Run("--help", _rocket, _environment);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("--method").And.Contain("--bind").And.Contain("--list-methods"));
    }

    [Test]
    public void InstalledToolListsThePluginsItCarries()
    {
        var (code, stdout, stderr) = RocketProcess.Run("--list-methods", _rocket, _environment);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"health\s+CustomMethod\.HealthWorker in .*\.store.*/plugins/CustomMethod/CustomMethod\.dll"));
    }

    [Test]
    public void InstalledToolServesAMethodFromItsOwnPluginsFolder()
    {
        using var rocket = RocketProcess.Start("--method health --bind 127.0.0.1:0 --set service=tool", executable: _rocket, environment: _environment);
        var port = rocket.WaitForPort();
        Assert.That(RocketCommandTests.Health(port).GetProperty("service").GetString(), Is.EqualTo("tool"));
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }
}
