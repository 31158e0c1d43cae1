using Microsoft.Owin;
using Microsoft.Owin.Builder;
using Microsoft.Owin.Mapping;
using Owin;
using RocketOwin.Methods.Owin.Internal;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin.Katana;

using AppFunc = Func<IDictionary<string, object>, Task>;

/// <summary>AppBuilder, Map/MapWhen and the Startup loader behave as Katana's (AppBuilder's signature conversions, Owin.Loader's DefaultLoader).</summary>
public class KatanaBuilderTests
{
    [Test]
    public void AnObjectWithAnInvokeNextMethodIsMiddleware()
    {
        using var server = Serve(app =>
        {
            app.Use(new HeaderGenerator("X-Generated"), "yes");
            app.Run(ctx => ctx.Response.WriteAsync("end"));
        });

        var response = Get(server, "/");

        Assert.That(response.Header("X-Generated"), Is.EqualTo("yes"));
        Assert.That(response.BodyText, Is.EqualTo("end"));
    }

    [Test]
    public void AnObjectWithInitializeAndInvokeIsStillMiddleware()
    {
        using var server = Serve(app =>
        {
            app.Use(new InitializeMiddleware());
            app.Run(ctx => ctx.Response.WriteAsync("after"));
        });

        Assert.That(Get(server, "/").BodyText, Is.EqualTo("initialized;after"));
    }

    [Test]
    public void AConversionFailureIsAnArgumentException()
    {
        var builder = new AppBuilder();
        builder.Use(new Func<string, string>(next => next));

        Assert.Throws<ArgumentException>(() => builder.Build());
    }

    [Test]
    public void ANonMiddlewareObjectIsNotSupported()
        => Assert.Throws<NotSupportedException>(() => new AppBuilder().Use(new object()));

    [Test]
    public void MapWithANullPathOrBranchThrowsArgumentNull()
    {
        var builder = new AppBuilder();
        AppFunc next = _ => Task.CompletedTask;

        Assert.Throws<ArgumentNullException>(() => builder.Map((string)null!, _ => { }));
        Assert.Throws<ArgumentNullException>(() => builder.Map("/foo", null!));
        Assert.Throws<ArgumentNullException>(() => _ = new MapMiddleware(null!, new MapOptions { Branch = next }));
        Assert.Throws<ArgumentNullException>(() => _ = new MapMiddleware(next, null!));
        Assert.Throws<ArgumentNullException>(() => _ = new MapWhenMiddleware(null!, new MapWhenOptions { Branch = next, Predicate = _ => true }));
        Assert.Throws<ArgumentNullException>(() => _ = new MapWhenMiddleware(next, null!));
    }

    [Test]
    public async Task MapMiddlewareIsAnAppFuncMiddlewareThatMovesThePrefixToPathBase()
    {
        string? seen = null;
        var map = new MapMiddleware(
            env => Task.FromResult(seen = "next"),
            new MapOptions
            {
                PathMatch = new PathString("/api"),
                Branch = env => Task.FromResult(seen = $"{env["owin.RequestPathBase"]}|{env["owin.RequestPath"]}"),
            });
        var environment = new OwinContext().Environment;
        environment["owin.RequestPathBase"] = "/base";
        environment["owin.RequestPath"] = "/API/items";

        await map.Invoke(environment);

        Assert.That(seen, Is.EqualTo("/base/api|/items"));
        Assert.That(environment["owin.RequestPath"], Is.EqualTo("/API/items"), "restored after the branch");

        environment["owin.RequestPath"] = "/other";
        await map.Invoke(environment);
        Assert.That(seen, Is.EqualTo("next"));
    }

    [Test]
    public async Task MapWhenMiddlewareIsAnAppFuncMiddleware()
    {
        var seen = new List<string>();
        var mapWhen = new MapWhenMiddleware(
            env => { seen.Add("next"); return Task.CompletedTask; },
            new MapWhenOptions
            {
                PredicateAsync = ctx => Task.FromResult(ctx.Request.Method == "POST"),
                Branch = env => { seen.Add("branch"); return Task.CompletedTask; },
            });
        var post = new OwinContext();
        post.Request.Method = "POST";
        var get = new OwinContext();
        get.Request.Method = "GET";

        await mapWhen.Invoke(post.Environment);
        await mapWhen.Invoke(get.Environment);

        Assert.That(seen, Is.EqualTo(new[] { "branch", "next" }));
    }

    [Test]
    public void MapAndMapWhenStillServeThroughTheBuilder()
    {
        using var server = Serve(app =>
        {
            app.Map("/api", api => api.Run(ctx => ctx.Response.WriteAsync("api " + ctx.Request.PathBase + " " + ctx.Request.Path)));
            app.MapWhen(ctx => ctx.Request.Query["branch"] == "1", b => b.Run(ctx => ctx.Response.WriteAsync("when")));
            app.Run(ctx => ctx.Response.WriteAsync("root"));
        });

        Assert.That(Get(server, "/api/x").BodyText, Is.EqualTo("api /api /x"));
        Assert.That(Get(server, "/?branch=1").BodyText, Is.EqualTo("when"));
        Assert.That(Get(server, "/other").BodyText, Is.EqualTo("root"));
    }

    [Test]
    public void FriendlyNamesAndMethodNamesIgnoreCase()
    {
        var assembly = EmittedAssemblies.WithStartupAttributes("CaseApp", ("Second", typeof(CasedStartup)));
        var assemblyName = typeof(CasedStartup).Assembly.GetName().Name;

        Assert.That(StartupLoader.Resolve("SECOND", [assembly]).Name, Is.EqualTo(typeof(CasedStartup).FullName));

        var (configure, _) = StartupLoader.Resolve($"{typeof(CasedStartup).FullName}.alternative, {assemblyName}", []);
        var builder = new AppBuilder();
        configure(builder);
        Assert.That(builder.Properties["configured-by"], Is.EqualTo("Alternative"));
    }

    [Test]
    public void AStartupAttributeFromAnotherAssemblyIsMatchedByName()
    {
        var ctor = typeof(Foreign.OwinStartupAttribute).GetConstructor([typeof(Type)])!;
        var assembly = System.Reflection.Emit.AssemblyBuilder.DefineDynamicAssembly(
            new System.Reflection.AssemblyName("ForeignAttributeApp"),
            System.Reflection.Emit.AssemblyBuilderAccess.RunAndCollect,
            [new System.Reflection.Emit.CustomAttributeBuilder(ctor, [typeof(CasedStartup)])]);
        assembly.DefineDynamicModule("ForeignAttributeApp");

        Assert.That(StartupLoader.Discover([assembly]).Name, Is.EqualTo(typeof(CasedStartup).FullName));
    }

    [Test]
    public void AConfigurationReturningAnAppFuncFromThePropertiesIsTheApplication()
    {
        using var server = ServeAppInfo(new AppInfo { ["startup"] = typeof(PropertiesStartup) });

        Assert.That(Get(server, "/").BodyText, Is.EqualTo("owin 1.0"));
    }

    public sealed class CasedStartup
    {
        public void Configuration(IAppBuilder app) => app.Properties["configured-by"] = "Configuration";

        public static void Alternative(IAppBuilder app) => app.Properties["configured-by"] = "Alternative";
    }

    public sealed class PropertiesStartup
    {
        public AppFunc Configuration(IDictionary<string, object> properties)
        {
            var version = (string)properties["owin.Version"];
            return env => Text(env, "owin " + version);
        }
    }

    /// <summary>Katana's generator pattern: Invoke(next, args) returns the component.</summary>
    public sealed class HeaderGenerator(string name)
    {
        public AppFunc Invoke(AppFunc next, string value) => env =>
        {
            ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])[name] = [value];
            return next(env);
        };
    }

    /// <summary>Katana's instance pattern: Initialize(next), then Invoke(environment).</summary>
    public sealed class InitializeMiddleware
    {
        private AppFunc? _next;

        public void Initialize(AppFunc next) => _next = next;

        public async Task Invoke(IDictionary<string, object> env)
        {
            await Text(env, "initialized;");
            await _next!(env);
        }
    }
}
