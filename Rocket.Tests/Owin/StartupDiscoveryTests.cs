using Owin;
using RocketOwin.Methods.Owin.Internal;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin;

public class StartupDiscoveryTests
{
    [Test]
    public void NoStartupFoundNamesTheAssemblyAndWhatWasLookedFor()
    {
        var assembly = EmittedAssemblies.WithStartupClasses("EmptyApp", "EmptyApp.Helpers");

        var e = Assert.Throws<InvalidOperationException>(() => StartupLoader.Discover([assembly]));

        Assert.That(e!.Message, Does.Contain("No OWIN startup found in EmptyApp"));
        Assert.That(e.Message, Does.Contain("OwinStartup").And.Contain("'<AssemblyName>.Startup' or 'Startup'"));
    }

    [Test]
    public void TwoConventionalStartupsConflictByName()
    {
        var assembly = EmittedAssemblies.WithStartupClasses("TwinApp", "TwinApp.Startup", "Startup");

        var e = Assert.Throws<InvalidOperationException>(() => StartupLoader.Discover([assembly]));

        Assert.That(e!.Message, Does.Contain("Two OWIN startups found in TwinApp"));
        Assert.That(e.Message, Does.Contain("'TwinApp.Startup'").And.Contain("'Startup'"));
    }

    [Test]
    public void TwoUnnamedStartupAttributesConflict()
    {
        var assembly = EmittedAssemblies.WithStartupAttributes("AttrApp", ("", typeof(StartupA)), ("", typeof(StartupB)));

        var e = Assert.Throws<InvalidOperationException>(() => StartupLoader.Discover([assembly]));

        Assert.That(e!.Message, Does.Contain("Two OWIN startups found in AttrApp"));
        Assert.That(e.Message, Does.Contain(nameof(StartupA)).And.Contain(nameof(StartupB)));
    }

    [Test]
    public void TheAttributeWinsOverTheConventionAndFriendlyNamesSelect()
    {
        var assembly = EmittedAssemblies.WithStartupAttributes("NamedApp", ("", typeof(StartupA)), ("second", typeof(StartupB)));

        Assert.That(StartupLoader.Discover([assembly]).Name, Is.EqualTo(typeof(StartupA).FullName));
        Assert.That(StartupLoader.Resolve("second", [assembly]).Name, Is.EqualTo(typeof(StartupB).FullName));
    }

    [Test]
    public void TypeAndMethodStringsResolveAcrossAssemblies()
    {
        var assemblyName = typeof(StartupA).Assembly.GetName().Name;

        var (configure, name) = StartupLoader.Resolve($"{typeof(StartupB).FullName}.Alternative, {assemblyName}", []);
        var builder = new Microsoft.Owin.Builder.AppBuilder();
        configure(builder);

        Assert.That(name, Does.EndWith("StartupB.Alternative"));
        Assert.That(builder.Properties["configured-by"], Is.EqualTo("Alternative"));
        Assert.That(StartupLoader.Resolve($"{typeof(StartupA).FullName}, {assemblyName}", []).Name, Is.EqualTo(typeof(StartupA).FullName));
    }

    [Test]
    public void AMissingConfigurationMethodIsNamed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => StartupLoader.Resolve(typeof(NoConfiguration), []));

        Assert.That(e!.Message, Does.Contain(nameof(NoConfiguration)).And.Contain("Configuration(IAppBuilder)"));
    }

    [Test]
    public void ServerStartFailsClearlyWithoutAnApplication()
    {
        var e = Assert.Throws<ArgumentException>(() => ServeAppInfo(new AppInfo()).Dispose());

        Assert.That(e!.Message, Does.Contain("owin_app").And.Contain("startup").And.Contain("app"));
    }

    [Test]
    public void AWrongOwinAppTypeIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => ServeAppInfo(new AppInfo { ["owin_app"] = "not a delegate" }).Dispose());

        Assert.That(e!.Message, Does.Contain("appInfo[\"owin_app\"]"));
    }

    public sealed class StartupA
    {
        public void Configuration(IAppBuilder app) => app.Properties["configured-by"] = "A";
    }

    public sealed class StartupB
    {
        public void Configuration(IAppBuilder app) => app.Properties["configured-by"] = "B";

        public static void Alternative(IAppBuilder app) => app.Properties["configured-by"] = "Alternative";
    }

    public sealed class NoConfiguration
    {
        public void Configure(IAppBuilder app) => app.Properties["x"] = 1;
    }
}
