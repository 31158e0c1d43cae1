using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RocketOwin.Tests.Host;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Packages;

/// <summary>
/// The libraries used the way a user outside this repository uses them (see <see cref="ConsumerApps"/>): fresh console
/// projects with one package reference, or one ProjectReference to Rocket.Methods.Owin, compiling the docs' examples
/// verbatim (README.md's AppFunc, Rocket.Methods.Owin/MIGRATING.md's Katana program), run as their own processes and
/// checked over HTTP. Everything is packed and built once, in the fixture's setup.
/// </summary>
[TestFixture]
public sealed class PackageConsumerTests
{
    private const string StaticAndProxyProgram = """
        using RocketOwin;

        // Each method found by name from its package alone: nothing here touches a type of either method assembly.
        using var files = new Rocket(("127.0.0.1", 0), "static", new AppInfo { ["document_root"] = args[0] }, handleSignals: false);
        files.Start(background: true);
        using var proxy = new Rocket(("127.0.0.1", 0), "proxy", new AppInfo { ["upstream"] = $"http://127.0.0.1:{files.BoundEndPoints[0].Port}" });
        proxy.Start(background: true);
        Console.WriteLine($"proxy on {proxy.BoundEndPoints[0].Port}");
        Console.ReadLine();
        """;

    private static readonly Regex ProxyLine = new(@"^proxy on (\d+)$");

    private ConsumerApps _apps = null!;
    private string _appFuncFromPackage = null!;
    private string _katanaFromPackage = null!;
    private string _appFuncFromProject = null!;
    private string _katanaFromProject = null!;
    private string _staticAndProxy = null!;

    [OneTimeSetUp]
    public void PackAndBuildConsumers()
    {
        // README.md serves its example on port 8080; tests never bind fixed ports, so that number alone becomes 0.
        var readme = MarkdownSnippets.Single("README.md", "[\"owin_app\"] = app");
        var appFunc = readme.Code.Replace("8080", "0", StringComparison.Ordinal);
        Assert.That(appFunc, Is.Not.EqualTo(readme.Code), $"{readme}: the example no longer serves on 8080; update this test");
        var katana = MarkdownSnippets.Single(Path.Combine("Rocket.Methods.Owin", "MIGRATING.md"), "WebApp.Start<Startup>").Code;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        _apps = new ConsumerApps();
        _apps.Pack();
        TestContext.Progress.WriteLine($"PackageConsumerTests: packed in {clock.Elapsed.TotalSeconds:0.0} s");
        _appFuncFromPackage = _apps.AddPackageConsumer("AppFuncFromPackage", Program(appFunc), "RocketOwin.Methods.Owin");
        _katanaFromPackage = _apps.AddPackageConsumer("KatanaFromPackage", Program(katana), "RocketOwin.Methods.Owin");
        _staticAndProxy = _apps.AddPackageConsumer("StaticAndProxyFromPackages", Program(StaticAndProxyProgram), "RocketOwin.Methods.Static", "RocketOwin.Methods.Proxy");
        var owinProject = Path.Combine("Rocket.Methods.Owin", "Rocket.Methods.Owin.csproj");
        _appFuncFromProject = _apps.AddProjectConsumer("AppFuncFromProject", Program(appFunc), owinProject);
        _katanaFromProject = _apps.AddProjectConsumer("KatanaFromProject", Program(katana), owinProject);
        _apps.Build();
        TestContext.Progress.WriteLine($"PackageConsumerTests: packed and built 5 consumers in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [OneTimeTearDown]
    public void DeleteTemp() => _apps?.Delete();

    [Test]
    public void EachPackageCarriesItsReadmeXmlDocsAndItsRuntimeDependencies()
    {
        Assert.That(Dependencies("RocketOwin.Core"), Is.EquivalentTo(new[] { "NLog" }));
        foreach (var method in new[] { "RocketOwin.Methods.Owin", "RocketOwin.Methods.Static", "RocketOwin.Methods.Proxy" })
        {
            Assert.That(Dependencies(method), Is.EquivalentTo(new[] { "RocketOwin.Core", "NLog" }), method);
        }
    }

    [Test]
    public void ReadmeAppFuncRunsFromTheOwinPackageAlone() => ServesTheReadmeAppFunc(_appFuncFromPackage);

    [Test]
    public void ReadmeAppFuncRunsFromAProjectReferenceToTheOwinMethodAlone() => ServesTheReadmeAppFunc(_appFuncFromProject);

    [Test]
    public void KatanaProgramOfTheMigrationPageRunsFromTheOwinPackageAlone() => ServesTheKatanaProgram(_katanaFromPackage);

    [Test]
    public void KatanaProgramOfTheMigrationPageRunsFromAProjectReferenceToTheOwinMethodAlone() => ServesTheKatanaProgram(_katanaFromProject);

    [Test]
    public void StaticAndProxyMethodsRunByNameFromTheirPackages()
    {
        var root = Path.Combine(_apps.Root, "www");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "hello.txt"), "hello from a package");
        using var app = RocketProcess.Start($"\"{ConsumerApps.Program(_staticAndProxy)}\" \"{root}\"", _apps.Root, "dotnet", listeningLine: ProxyLine);
        var port = app.WaitForPort();

        using var client = Client(port);
        using var response = client.GetAsync("/hello.txt").GetAwaiter().GetResult();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), app.Stdout + app.Stderr);
        Assert.That(response.Content.ReadAsStringAsync().GetAwaiter().GetResult(), Is.EqualTo("hello from a package"));
        Assert.That(response.Headers.ETag, Is.Not.Null, "the static method's ETag, relayed by the proxy");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));

        app.CloseInput();
        Assert.That(app.WaitForExit(), Is.Zero, app.Stderr);
    }

    [Test]
    public void MethodPublishedAsAPluginLeavesTheEngineAndNLogToTheHost()
    {
        // What build.cake's PublishPlugins does for each method project (without rebuilding it).
        var plugins = Path.Combine(_apps.Root, "plugins");
        var folder = Path.Combine(plugins, "Rocket.Methods.Static");
        var project = Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Methods.Static", "Rocket.Methods.Static.csproj");
        DotNetCli.Run("dotnet", $"publish \"{project}\" -c {DotNetCli.Configuration} --no-build -o \"{folder}\" -nodeReuse:false -v:m");

        Assert.That(File.Exists(Path.Combine(folder, "Rocket.Methods.Static.dll")), Is.True);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Has.None.StartsWith("Rocket.Core.").And.None.StartsWith("NLog."));
        var deps = File.ReadAllText(Path.Combine(folder, "Rocket.Methods.Static.deps.json"));
        Assert.That(deps, Does.Not.Contain("Rocket.Core").And.Not.Contain("NLog"), "the plugin's .deps.json must not ask for the host's assemblies");

        var listed = Rocket.ListMethods(plugins).Where(m => m.Source.Contains(folder, StringComparison.Ordinal)).ToList();
        Assert.That(listed.Select(m => (m.Name, m.Problem)), Is.EquivalentTo(new[] { ("static", (string?)null), ("fs", null) }));
    }

    private static void ServesTheReadmeAppFunc(string project)
    {
        using var app = RocketProcess.Start($"\"{ConsumerApps.Program(project)}\"", Path.GetDirectoryName(project), "dotnet", listeningLine: RocketProcess.EngineListeningLine);
        var port = app.WaitForPort();
        using var client = Client(port);
        using var response = client.GetAsync("/").GetAwaiter().GetResult();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), app.Stdout + app.Stderr);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        Assert.That(response.Content.ReadAsStringAsync().GetAwaiter().GetResult(), Is.EqualTo("Hello, World!"));

        // The README says Ctrl-C stops it; SIGTERM takes the same path.
        Assert.That(app.Terminate(), Is.Zero, app.Stderr);
    }

    private static void ServesTheKatanaProgram(string project)
    {
        using var app = RocketProcess.Start($"\"{ConsumerApps.Program(project)}\" http://127.0.0.1:0/", Path.GetDirectoryName(project), "dotnet", listeningLine: RocketProcess.EngineListeningLine);
        var port = app.WaitForPort();
        using var client = Client(port);

        using (var root = client.GetAsync("/").GetAwaiter().GetResult())
        {
            Assert.That(root.Content.ReadAsStringAsync().GetAwaiter().GetResult(), Is.EqualTo("Hello from Katana"), app.Stdout + app.Stderr);
            Assert.That(root.Headers.GetValues("X-Powered-By"), Is.EqualTo(new[] { "Katana" }), "set from OnSendingHeaders");
            Assert.That(root.Headers.GetValues("X-Request-Id").Single(), Does.Match("^[0-9]+$"), "set by the OwinMiddleware class");
        }

        Assert.That(client.GetStringAsync("/api/items").GetAwaiter().GetResult(), Is.EqualTo("api /items"), "Map strips the prefix into PathBase");
        using (var form = client.PostAsync("/form", new FormUrlEncodedContent([new("name", "Ann")])).GetAwaiter().GetResult())
        {
            Assert.That(form.Content.ReadAsStringAsync().GetAwaiter().GetResult(), Is.EqualTo("Hello, Ann"), "MapWhen + ReadFormAsync");
        }

        Assert.That(client.GetStringAsync("/form").GetAwaiter().GetResult(), Is.EqualTo("Hello from Katana"), "MapWhen's predicate is false for a GET");

        // Console.ReadLine returns at end of input; disposing WebApp's result stops the server and the program ends.
        app.CloseInput();
        Assert.That(app.WaitForExit(), Is.Zero, app.Stderr);
        Assert.That(app.Stdout, Does.Contain("Serving http://127.0.0.1:0/; press Enter to stop."));
    }

    private static Dictionary<string, string> Program(string code) => new() { ["Program.cs"] = code };

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The package's dependency ids, after checking it carries its README and XML docs and excludes no runtime assets.</summary>
    private List<string> Dependencies(string id)
    {
        var package = Directory.GetFiles(_apps.Feed, id + ".*.nupkg").Single(f => char.IsAsciiDigit(Path.GetFileName(f)[id.Length + 1]));
        using var zip = ZipFile.OpenRead(package);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(names, Does.Contain("README.md"), id);
        Assert.That(names.Where(n => n.StartsWith("lib/net10.0/", StringComparison.Ordinal)).Select(Path.GetExtension), Does.Contain(".dll").And.Contain(".xml"), id);
        using var nuspec = zip.GetEntry(id + ".nuspec")!.Open();
        var document = XDocument.Load(nuspec);
        var ns = document.Root!.Name.Namespace;
        Assert.That(document.Root.Element(ns + "metadata")!.Element(ns + "readme")?.Value, Is.EqualTo("README.md"), id);
        var dependencies = document.Descendants(ns + "dependency").ToList();
        Assert.That(dependencies.Select(d => (string?)d.Attribute("exclude") ?? string.Empty), Has.None.Contain("Runtime"), $"{id}: a dependency without its runtime assets fails at run time");
        return dependencies.Select(d => (string)d.Attribute("id")!).ToList();
    }
}
