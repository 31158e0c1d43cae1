using Owin;
using RocketOwin.Methods.Owin;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin;

public class AppLoadingTests
{
    [Test]
    public void AnInProcessStartupTypeIsServed()
    {
        using var server = ServeAppInfo(new AppInfo { ["startup"] = typeof(InProcessStartup) });

        Assert.That(Get(server, "/").BodyText, Is.EqualTo("in-process"));
    }

    [Test]
    public void AnAppDllFromAnotherFolderIsLoadedWithItsDependencies()
    {
        var folder = EmittedAssemblies.NewFolder();
        try
        {
            var appPath = EmittedAssemblies.WriteApp(folder, out var expected);

            using var server = ServeAppInfo(new AppInfo { ["app"] = appPath });

            Assert.That(Get(server, "/").BodyText, Is.EqualTo(expected));
            var loaded = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == Path.GetFileNameWithoutExtension(appPath));
            Assert.That(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(loaded),
                Is.SameAs(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(OwinWorker).Assembly)));
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Test]
    public void AMissingAppDllIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => ServeAppInfo(new AppInfo { ["app"] = "/nonexistent/App.dll" }).Dispose());

        Assert.That(e!.Message, Does.Contain("/nonexistent/App.dll"));
    }

    public sealed class InProcessStartup
    {
        public void Configuration(IAppBuilder app) => app.Run(c => c.Response.WriteAsync("in-process"));
    }
}
