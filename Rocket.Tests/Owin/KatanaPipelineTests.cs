using Microsoft.Owin;
using Owin;
using static RocketOwin.Tests.Owin.OwinTestSupport;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;

public class KatanaPipelineTests
{
    [Test]
    public void MapMovesThePrefixIntoPathBaseAndRestoresIt()
    {
        var after = new List<string>();
        using var server = Serve(app =>
        {
            app.Use(async (context, next) =>
            {
                await next();
                after.Add(context.Request.PathBase.Value + "|" + context.Request.Path.Value);
            });
            app.Map("/api", branch => branch.Run(c => c.Response.WriteAsync(c.Request.PathBase.Value + "|" + c.Request.Path.Value)));
            app.Run(c => c.Response.WriteAsync("outside " + c.Request.Path.Value));
        });

        Assert.That(Get(server, "/API/items").BodyText, Is.EqualTo("/api|/items"));
        Assert.That(Get(server, "/api").BodyText, Is.EqualTo("/api|"));
        Assert.That(Get(server, "/apix").BodyText, Is.EqualTo("outside /apix"));
        Assert.That(after, Is.EqualTo(new[] { "|/API/items", "|/api", "|/apix" }));
    }

    [Test]
    public void MapRejectsAPathEndingWithSlash()
        => Assert.Throws<ArgumentException>(() => new Microsoft.Owin.Builder.AppBuilder().Map("/api/", _ => { }));

    [Test]
    public void TheEndOfThePipelineAnswers404()
    {
        using var server = Serve(app => app.Map("/only", b => b.Run(c => c.Response.WriteAsync("x"))));

        Assert.That(Get(server, "/elsewhere").StatusLine, Is.EqualTo("HTTP/1.1 404 Not Found"));
    }

    [Test]
    public void MiddlewareClassesDelegatesAndInstancesChainInOrder()
    {
        using var server = Serve(app =>
        {
            app.Use<TagMiddleware>("X-Class", "1");
            app.Use(new Func<AppFunc, AppFunc>(next => env =>
            {
                ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["X-Func"] = ["2"];
                return next(env);
            }));
            app.Use(new InitializeMiddleware());
            app.UseStageMarker(PipelineStage.Authenticate);
            app.Run(c => c.Response.WriteAsync("end"));
        });

        var response = Get(server, "/");

        Assert.That(response.Header("X-Class"), Is.EqualTo("1"));
        Assert.That(response.Header("X-Func"), Is.EqualTo("2"));
        Assert.That(response.Header("X-Instance"), Is.EqualTo("3"));
        Assert.That(response.BodyText, Is.EqualTo("end"));
    }

    [Test]
    public void MapWhenAndMapWhenAsyncBranchOnPredicates()
    {
        using var server = Serve(app =>
        {
            app.MapWhen(c => c.Request.Query["mode"] == "a", b => b.Run(c => c.Response.WriteAsync("A")));
            app.MapWhenAsync(c => Task.FromResult(c.Request.Headers["X-Mode"] == "b"), b => b.Run(c => c.Response.WriteAsync("B")));
            app.Run(c => c.Response.WriteAsync("default"));
        });

        Assert.That(Get(server, "/?mode=a").BodyText, Is.EqualTo("A"));
        Assert.That(Get(server, "/", "X-Mode: b\r\n").BodyText, Is.EqualTo("B"));
        Assert.That(Get(server, "/").BodyText, Is.EqualTo("default"));
    }

    [Test]
    public void RequestMembersReadTheEnvironment()
    {
        string? seen = null;
        using var server = Serve(app => app.Run(c =>
        {
            var r = c.Request;
            seen = string.Join(";", r.Method, r.Scheme, r.IsSecure, r.Host.Value, r.Path, r.QueryString, r.Query["b"], string.Join(",", r.Query.GetValues("a")!),
                r.Cookies["session"], r.Cookies["x%20y"], r.Accept, r.Uri.AbsoluteUri, r.RemoteIpAddress, r.LocalPort == c.Request.LocalPort, r.Protocol, r.CallCancelled.CanBeCanceled);
            return Task.CompletedTask;
        }));

        Get(server, "/p%20q?a=1&a=2&b=x+y%21", "Cookie: session=abc; x%20y=z\r\nAccept: text/plain\r\n");

        Assert.That(seen, Is.EqualTo("GET;http;False;test;/p%20q;?a=1&a=2&b=x+y%21;x y!;1,2;abc;z;text/plain;http://test/p%20q?a=1&a=2&b=x+y%21;127.0.0.1;True;HTTP/1.1;True"));
    }

    [Test]
    public void ReadFormAsyncParsesAPostedForm()
    {
        using var server = Serve(app => app.Run(async c =>
        {
            var form = await c.Request.ReadFormAsync();
            var again = await c.Request.ReadFormAsync();
            await c.Response.WriteAsync($"{form["name"]}|{form["tags"]}|{ReferenceEquals(form, again)}");
        }));

        var response = Post(server, "/", "application/x-www-form-urlencoded", "name=J%C3%BCrgen+K&tags=a&tags=b");

        Assert.That(response.BodyText, Is.EqualTo("Jürgen K|a,b|True"));
    }

    [Test]
    public void ResponseMembersWriteTheEnvironment()
    {
        using var server = Serve(app => app.Run(c =>
        {
            var r = c.Response;
            r.StatusCode = 202;
            r.ReasonPhrase = "Queued";
            r.ContentType = "text/plain; charset=utf-8";
            r.ETag = "\"v1\"";
            r.Expires = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
            r.Cookies.Append("a b", "c;d");
            r.Cookies.Append("k", "v", new CookieOptions { HttpOnly = true, Path = "/x" });
            r.Headers.AppendValues("X-List", "1", "2");
            r.Headers.Append("X-Joined", "a");
            r.Headers.Append("X-Joined", "b");
            r.Write("héllo");
            return r.WriteAsync(new byte[] { (byte)'!' });
        }));

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 202 Queued"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/plain; charset=utf-8"));
        Assert.That(response.Header("ETag"), Is.EqualTo("\"v1\""));
        Assert.That(response.Header("Expires"), Is.EqualTo("Wed, 02 Jan 2030 03:04:05 GMT"));
        Assert.That(response.Headers.Where(h => h.Key == "Set-Cookie").Select(h => h.Value),
            Is.EqualTo(new[] { "a%20b=c%3Bd; path=/", "k=v; path=/x; HttpOnly" }));
        Assert.That(response.HeaderCount("X-List"), Is.EqualTo(2));
        Assert.That(response.Header("X-Joined"), Is.EqualTo("a,b"));
        Assert.That(response.BodyText, Is.EqualTo("héllo!"));
    }

    [Test]
    public void RedirectAnswers302WithLocation()
    {
        using var server = Serve(app => app.Run(c =>
        {
            c.Response.Redirect("/elsewhere");
            return Task.CompletedTask;
        }));

        var response = Get(server, "/");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 302 Found"));
        Assert.That(response.Header("Location"), Is.EqualTo("/elsewhere"));
    }

    [Test]
    public void KatanaHeadersAfterTheFirstWriteThrowButOnSendingHeadersMayChangeThem()
    {
        Exception? late = null;
        using var server = Serve(app => app.Run(async c =>
        {
            c.Response.OnSendingHeaders(state => c.Response.Headers["X-Sent"] = (string)state, "yes");
            await c.Response.WriteAsync("body");
            try
            {
                c.Response.Headers["X-Late"] = "1";
            }
            catch (InvalidOperationException e)
            {
                late = e;
            }
        }));

        var response = Get(server, "/");

        Assert.That(late, Is.Not.Null);
        Assert.That(response.Header("X-Sent"), Is.EqualTo("yes"));
        Assert.That(response.Header("X-Late"), Is.Null);
    }

    [Test]
    public void ContextGetSetAndTraceOutputUseTheEnvironment()
    {
        using var server = Serve(app =>
        {
            app.Use((c, next) =>
            {
                c.Set("app.User", "alice");
                return next();
            });
            app.Run(c => c.Response.WriteAsync(c.Get<string>("app.User") + "|" + (c.TraceOutput is not null) + "|" + (c.Environment["app.User"])));
        });

        Assert.That(Get(server, "/").BodyText, Is.EqualTo("alice|True|alice"));
    }

    [Test]
    public void BuilderPropertiesCarryTheHostKeys()
    {
        IDictionary<string, object>? properties = null;
        using var server = Serve(app =>
        {
            properties = app.Properties;
            app.Run(c => Task.CompletedTask);
        });

        Assert.That(properties, Is.Not.Null);
        Assert.That(properties!["owin.Version"], Is.EqualTo("1.0"));
        Assert.That(properties["host.TraceOutput"], Is.InstanceOf<TextWriter>());
        Assert.That(properties["host.OnAppDisposing"], Is.InstanceOf<CancellationToken>());
        Assert.That(properties["server.Capabilities"], Is.InstanceOf<IDictionary<string, object>>());
    }

    public sealed class TagMiddleware(OwinMiddleware next, string name, string value) : OwinMiddleware(next)
    {
        public override Task Invoke(IOwinContext context)
        {
            context.Response.Headers.Set(name, value);
            return Next.Invoke(context);
        }
    }

    public sealed class InitializeMiddleware
    {
        private AppFunc? _next;

        public void Initialize(AppFunc next) => _next = next;

        public Task Invoke(IDictionary<string, object> env)
        {
            ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["X-Instance"] = ["3"];
            return _next!(env);
        }
    }
}
