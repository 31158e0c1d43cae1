using System.Net;
using RocketOwin.Tests.Host;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Owin.Katana;

/// <summary>
/// The "apps from the Katana era" samples (samples/KatanaPipeline, KatanaForms, KatanaStaticFiles), each served by the
/// real rocket command with <c>--method owin --app</c>, over HTTP.
/// </summary>
[NonParallelizable]
public sealed class KatanaEraSampleTests
{
    private string _plugins = null!;
    private RocketProcess _pipeline = null!;
    private RocketProcess _forms = null!;
    private RocketProcess _static = null!;
    private int _pipelinePort;
    private int _formsPort;
    private int _staticPort;

    [OneTimeSetUp]
    public void StartTheSamples()
    {
        // The owin method as the rocket command finds plugins: <folder>/Rocket.Methods.Owin/Rocket.Methods.Owin.dll,
        // without the host's own Rocket.Core and NLog.
        _plugins = DotNetCli.NewTempDirectory("rocket-katana-samples");
        var owin = DotNetCli.CopyOwinPlugin(_plugins);
        var built = Path.GetDirectoryName(typeof(RocketOwin.Methods.Owin.OwinWorker).Assembly.Location)!;

        Assert.That(File.Exists(Path.Combine(owin, "Rocket.Methods.Owin.dll")), Is.True, built);
        _pipeline = Start("KatanaPipeline");
        _forms = Start("KatanaForms");
        _static = Start("KatanaStaticFiles", "--set startup=static");
        _pipelinePort = _pipeline.WaitForPort();
        _formsPort = _forms.WaitForPort();
        _staticPort = _static.WaitForPort();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _pipeline?.Dispose();
        _forms?.Dispose();
        _static?.Dispose();
        DotNetCli.DeleteQuietly(_plugins);
    }

    [Test]
    public void ThePipelineRunsEveryKindOfMiddlewareIntoTheMappedBranch()
    {
        var response = Send(_pipelinePort, "GET /api/items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("application/json"));
        Assert.That(response.Header("X-Api-Version"), Is.EqualTo("1"));
        var requestId = response.Header("X-Request-Id");
        Assert.That(requestId, Is.Not.Null.And.Not.Empty);
        Assert.That(response.BodyText, Is.EqualTo($"{{\"path\":\"/items\",\"pathBase\":\"/api\",\"visits\":1,\"requestId\":\"{requestId}\"}}"));
        Assert.That(response.Header("Set-Cookie"), Is.EqualTo("visits=1; path=/; HttpOnly"));
    }

    [Test]
    public void ThePipelineCountsVisitsInACookie()
    {
        var response = Send(_pipelinePort, "GET / HTTP/1.1\r\nHost: x\r\nCookie: theme=dark; visits=4\r\nConnection: close\r\n\r\n");

        Assert.That(response.BodyText, Is.EqualTo("Hello from a Katana-era pipeline (visit 5)"));
        Assert.That(response.Header("Set-Cookie"), Is.EqualTo("visits=5; path=/; HttpOnly"));
    }

    [Test]
    public void ThePipelinesErrorPageAnswersAFailingBranch()
    {
        var response = Send(_pipelinePort, "GET /?fail=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.That(response.StatusCode, Is.EqualTo(500));
        Assert.That(response.BodyText, Is.EqualTo("KatanaPipeline error: asked to fail"));
    }

    [Test]
    public void TheFormIsShownPostedRedirectedAndThanked()
    {
        Assert.That(Send(_formsPort, "GET /guestbook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").BodyText, Does.StartWith("<form method=\"post\">"));

        var body = "name=Ada+L%C3%B6w&tag=owin&tag=katana&novalue";
        var posted = Send(_formsPort, $"POST /guestbook HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        Assert.That(posted.StatusCode, Is.EqualTo(302));
        Assert.That(posted.Header("Location"), Is.EqualTo("/guestbook/signed?name=Ada%20L%C3%B6w&tags=owin%2Ckatana"));
        var flash = posted.Header("Set-Cookie")!;
        Assert.That(flash, Is.EqualTo("flash=Thanks%2C%20Ada%20L%C3%B6w%21; path=/guestbook; HttpOnly"));

        var signed = Send(_formsPort, $"GET {posted.Header("Location")} HTTP/1.1\r\nHost: x\r\nCookie: {flash[..flash.IndexOf(';')]}\r\nConnection: close\r\n\r\n");
        Assert.That(signed.BodyText, Is.EqualTo("<p>Thanks, Ada L&#246;w!</p><p>Signed by Ada L&#246;w (owin,katana)</p>"), "HTML-encoded");
        Assert.That(signed.Header("Set-Cookie"), Does.StartWith("flash=; path=/guestbook; expires=Thu, 01-Jan-1970 00:00:00 GMT"));
    }

    [Test]
    public void AFormWithoutANameIsABadRequestAndTheRootRedirects()
    {
        var posted = Send(_formsPort, "POST /guestbook HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\nConnection: close\r\n\r\nname= ");
        Assert.That(posted.StatusCode, Is.EqualTo(400));

        var root = Send(_formsPort, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(root.StatusCode, Is.EqualTo(302));
        Assert.That(root.Header("Location"), Is.EqualTo("/guestbook"));
    }

    [Test]
    public void StaticFilesAreServedUnderTheMapWithConditionalGets()
    {
        var css = File.ReadAllText(Path.Combine(DotNetCli.RepositoryRoot, "samples", "KatanaStaticFiles", "wwwroot", "css", "site.css"));

        var response = Send(_staticPort, "GET /static/css/site.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/css"));
        Assert.That(response.BodyText, Is.EqualTo(css));
        var lastModified = response.Header("Last-Modified");
        Assert.That(lastModified, Is.Not.Null);

        var again = Send(_staticPort, $"GET /static/css/site.css HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: {lastModified}\r\nConnection: close\r\n\r\n");
        Assert.That(again.StatusCode, Is.EqualTo(304));
    }

    [Test]
    public void StaticHeadMissingFilesAndThePage()
    {
        var length = new FileInfo(Path.Combine(DotNetCli.RepositoryRoot, "samples", "KatanaStaticFiles", "wwwroot", "index.html")).Length;
        var head = Send(_staticPort, "HEAD /static/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", headRequest: true);
        Assert.That(head.StatusCode, Is.EqualTo(200));
        Assert.That(head.Header("Content-Length"), Is.EqualTo(length.ToString()));

        Assert.That(Send(_staticPort, "GET /static/missing.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").StatusCode, Is.EqualTo(404));
        Assert.That(Send(_staticPort, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").BodyText, Does.Contain("static/css/site.css"));
    }

    private static RawResponse Send(int port, string request, bool headRequest = false)
    {
        using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
        client.Send(System.Text.Encoding.UTF8.GetBytes(request));
        return client.ReadResponse(headRequest);
    }

    private RocketProcess Start(string sample, string extra = "")
    {
        var dll = Path.Combine(DotNetCli.RepositoryRoot, "samples", sample, "bin", DotNetCli.Configuration, "net10.0", sample + ".dll");
        Assert.That(File.Exists(dll), Is.True, dll + " is built with the tests");
        return RocketProcess.Start($"--plugins \"{_plugins}\" --method owin --bind 127.0.0.1:0 --app \"{dll}\" {extra}");
    }
}
