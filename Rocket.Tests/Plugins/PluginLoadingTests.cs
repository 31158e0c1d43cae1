using System.Net;
using System.Runtime.Loader;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Plugins;

/// <summary>The registry and loader against real plugin projects built into temp plugins folders (see <see cref="TestPlugins"/>).</summary>
[TestFixture]
public sealed class PluginLoadingTests
{
    [OneTimeSetUp]
    public void BuildPlugins()
    {
        TestLogging.EnsureConfigured();
        _ = TestPlugins.MainFolder;
    }

    [Test]
    public void PluginMethodServesRequestsFromItsFolder()
    {
        using var server = Start("alpha", TestPlugins.MainFolder);
        Assert.That(Get(server, "/"), Does.StartWith("alpha lib 1.0.0 version 1.0.0.0"));
    }

    [Test]
    public void MethodNamesAndAliasesAreCaseInsensitive()
    {
        using var upper = Start("ALPHA", TestPlugins.MainFolder);
        using var alias = Start("First", TestPlugins.MainFolder);
        Assert.That(Get(upper, "/"), Does.StartWith("alpha "));
        Assert.That(Get(alias, "/"), Does.StartWith("alpha "));
    }

    [Test]
    public void TwoPluginsCarryDifferentVersionsOfOneLibraryWithoutConflict()
    {
        using var alpha = Start("alpha", TestPlugins.MainFolder);
        using var beta = Start("beta", TestPlugins.MainFolder);
        var a = Get(alpha, "/");
        var b = Get(beta, "/");
        Assert.That(a, Does.StartWith("alpha lib 1.0.0 version 1.0.0.0 context Rocket plugin Alpha"));
        Assert.That(b, Does.StartWith("beta lib 2.0.0 version 2.0.0.0 context Rocket plugin Beta"));

        // Both copies are loaded side by side, each in its plugin's context.
        var sharedLibs = AppDomain.CurrentDomain.GetAssemblies().Where(x => x.GetName().Name == "SharedLib").Select(x => x.GetName().Version!.ToString()).Order().ToList();
        Assert.That(sharedLibs, Is.EqualTo(new[] { "1.0.0.0", "2.0.0.0" }));
    }

    [Test]
    public void PluginsShareTheHostsWorkerTypeAndRocketCore()
    {
        using var server = Start("beta", TestPlugins.MainFolder);
        Assert.That(Get(server, "/"), Does.StartWith("beta "));
        var cores = AppDomain.CurrentDomain.GetAssemblies().Where(x => x.GetName().Name == "Rocket.Core").ToList();
        Assert.That(cores, Has.Count.EqualTo(1));
        Assert.That(AssemblyLoadContext.GetLoadContext(cores[0]), Is.SameAs(AssemblyLoadContext.Default));
        Assert.That(File.Exists(Path.Combine(TestPlugins.MainFolder, "Beta", "Rocket.Core.dll")), Is.False, "a plugin folder must not carry the contract");
    }

    [Test]
    public void UnknownMethodErrorNamesItTheFoldersSearchedAndTheMethodsFound()
    {
        var e = StartFails("gamma", TestPlugins.MainFolder);
        Assert.That(e.Message, Does.Contain("'gamma'"));
        Assert.That(e.Message, Does.Contain(Path.GetFullPath(TestPlugins.MainFolder)));
        Assert.That(e.Message, Does.Contain("registered in code").And.Contain("loaded in this process"));
        Assert.That(e.Message, Does.Contain("alpha").And.Contain("beta").And.Contain("first"));
        Assert.That(e.Message, Does.Contain(TestPlugins.PluginFile(TestPlugins.MainFolder, "Garbage")), "broken plugins are listed too");
    }

    [Test]
    public void UnknownMethodErrorSaysWhenThePluginsFolderDoesNotExist()
    {
        var missing = Path.Combine(Path.GetTempPath(), "rocket-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var e = StartFails("gamma", missing);
        Assert.That(e.Message, Does.Contain(missing + " (which does not exist)"));
    }

    [Test]
    public void DllThatIsNotADotNetAssemblyIsReportedWithItsFileAndOtherMethodsStillLoad()
    {
        var garbage = TestPlugins.PluginFile(TestPlugins.MainFolder, "Garbage");
        var listed = Rocket.ListMethods(TestPlugins.MainFolder);
        var problem = listed.Single(m => m.Source == garbage);
        Assert.That(problem.Problem, Does.Contain("not a .NET assembly"));

        using var server = Start("beta", TestPlugins.MainFolder);
        Assert.That(Get(server, "/"), Does.StartWith("beta "));
    }

    [Test]
    public void DeclaredTypeThatIsNotAWorkerIsAnErrorNamingTheFile()
    {
        var e = StartFails("notworker", TestPlugins.MainFolder);
        Assert.That(e.Message, Does.Contain(TestPlugins.PluginFile(TestPlugins.MainFolder, "NotWorker")));
        Assert.That(e.Message, Does.Contain("NotWorker.Plain").And.Contain("does not derive from RocketOwin.Worker"));
    }

    [Test]
    public void WorkerConstructorThatThrowsIsAnErrorNamingTheFileAndTheCauseAndOtherMethodsStillLoad()
    {
        var e = StartFails("throws", TestPlugins.MainFolder);
        Assert.That(e.Message, Does.Contain(TestPlugins.PluginFile(TestPlugins.MainFolder, "Throws")));
        Assert.That(e.Message, Does.Contain("database unreachable"));
        Assert.That(e.InnerException, Is.TypeOf<InvalidOperationException>());

        using var server = Start("alpha", TestPlugins.MainFolder);
        Assert.That(Get(server, "/"), Does.StartWith("alpha "));
    }

    [Test]
    public void TwoPluginsClaimingOneNameIsAnErrorNamingBothFiles()
    {
        var e = StartFails("twin", TestPlugins.DuplicateFolder);
        Assert.That(e.Message, Does.Contain(TestPlugins.PluginFile(TestPlugins.DuplicateFolder, "TwinOne")));
        Assert.That(e.Message, Does.Contain(TestPlugins.PluginFile(TestPlugins.DuplicateFolder, "TwinTwo")));

        using var server = Start("solo", TestPlugins.DuplicateFolder);
        Assert.That(Get(server, "/"), Is.EqualTo("twin one"));
    }

    [Test]
    public void MethodsRegisteredInCodeComeBeforePlugins()
    {
        Rocket.RegisterMethod("alpha", () => new LambdaWorker(c =>
        {
            c.Response.Write("from code"u8);
            return ValueTask.CompletedTask;
        }));
        try
        {
            using var server = Start("alpha", TestPlugins.MainFolder);
            Assert.That(Get(server, "/"), Is.EqualTo("from code"));
        }
        finally
        {
            Rocket.UnregisterMethod("alpha");
        }
    }

    [Test]
    public void LoadedPluginsDoNotLeakIntoAnotherPluginsFolder()
    {
        using (var server = Start("alpha", TestPlugins.MainFolder))
        {
            Assert.That(Get(server, "/"), Does.StartWith("alpha "));
        }

        var e = StartFails("alpha", TestPlugins.DuplicateFolder);
        Assert.That(e.Message, Does.Contain("no worker serves 'alpha'"));
    }

    [Test]
    public void ListMethodsShowsEveryPluginMethodAndWhereItComesFrom()
    {
        var listed = Rocket.ListMethods(TestPlugins.MainFolder);
        var alpha = listed.Single(m => m.Name == "alpha");
        Assert.That(alpha.Source, Does.Contain("Alpha.AlphaWorker").And.Contain(TestPlugins.PluginFile(TestPlugins.MainFolder, "Alpha")));
        Assert.That(alpha.Problem, Is.Null);
        Assert.That(listed.Select(m => m.Name), Does.Contain("first").And.Contain("beta"));
        Assert.That(listed.Single(m => m.Name == "notworker").Problem, Does.Contain("does not derive from"));
        Assert.That(listed.Single(m => m.Source.EndsWith("Empty", StringComparison.Ordinal)).Problem, Does.Contain("no Empty.dll"));

        var twins = Rocket.ListMethods(TestPlugins.DuplicateFolder).Where(m => m.Name.Equals("twin", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.That(twins, Has.Count.EqualTo(2));
        Assert.That(twins.Select(t => t.Problem), Has.All.Contain("claimed by more than one plugin"));
    }

    [Test]
    public void PluginsDirectoryDefaultsToRocketPluginsOrPluginsNextToTheHost()
    {
        var saved = Environment.GetEnvironmentVariable("ROCKET_PLUGINS");
        try
        {
            Environment.SetEnvironmentVariable("ROCKET_PLUGINS", null);
            Assert.That(Rocket.DefaultPluginsDirectory, Is.EqualTo(Path.Combine(AppContext.BaseDirectory, "plugins")));
            Environment.SetEnvironmentVariable("ROCKET_PLUGINS", TestPlugins.MainFolder);
            using var server = new Rocket(("127.0.0.1", 0), "alpha", handleSignals: false);
            Assert.That(server.PluginsDirectory, Is.EqualTo(TestPlugins.MainFolder));
            server.Start(background: true);
            Assert.That(Get(server, "/"), Does.StartWith("alpha "));
        }
        finally
        {
            Environment.SetEnvironmentVariable("ROCKET_PLUGINS", saved);
        }
    }

    internal static Rocket Start(string method, string plugins)
    {
        var server = new Rocket(("127.0.0.1", 0), method, minThreads: 2, handleSignals: false) { PluginsDirectory = plugins };
        server.Start(background: true);
        return server;
    }

    internal static string Get(Rocket server, string path)
    {
        using var client = new RawClient(server.BoundEndPoints[0]);
        client.Send($"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.EqualTo((int)HttpStatusCode.OK), response.BodyText);
        return response.BodyText;
    }

    private static InvalidOperationException StartFails(string method, string plugins)
    {
        using var server = new Rocket(("127.0.0.1", 0), method, minThreads: 2, handleSignals: false) { PluginsDirectory = plugins };
        var e = Assert.Throws<InvalidOperationException>(() => server.Start(background: true))!;
        Assert.That(server.IsRunning, Is.False);
        return e;
    }
}
