using RocketOwin.Methods.Proxy;

namespace RocketOwin.Tests.Proxy;

public class ProxyOptionsTests
{
    [Test]
    public void DefaultsAreDocumentedOnes()
    {
        var options = ProxyOptions.From(new AppInfo { ["upstream"] = "http://127.0.0.1:5000" });
        Assert.That(options.Upstreams.Select(u => u.ToString()), Is.EqualTo(new[] { "http://127.0.0.1:5000/" }));
        Assert.That(options.Balance, Is.EqualTo(BalanceMode.RoundRobin));
        Assert.That(options.FailTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.UpstreamTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
        Assert.That(options.ConnectTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
        Assert.That(options.MaxConnections, Is.Zero);
        Assert.That(options.PreserveHost, Is.False);
        Assert.That(options.XForwarded, Is.True);
        Assert.That(options.Forwarded, Is.False);
        Assert.That(options.Via, Is.Null);
        Assert.That(options.PathBase, Is.Empty);
        Assert.That(options.BufferSize, Is.EqualTo(65536));
    }

    [Test]
    public void UpstreamAcceptsACommaSeparatedStringOrAList()
    {
        var fromString = ProxyOptions.From(new AppInfo { ["upstream"] = "http://a:1, http://b:2/prefix" });
        var fromList = ProxyOptions.From(new AppInfo { ["upstream"] = new[] { "http://a:1", "http://b:2/prefix" } });
        Assert.That(fromString.Upstreams, Is.EqualTo(fromList.Upstreams));
        Assert.That(fromString.Upstreams[1].AbsolutePath, Is.EqualTo("/prefix"));
    }

    [Test]
    public void MissingUpstreamIsAnErrorNamingTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => ProxyOptions.From(new AppInfo()));
        Assert.That(e!.Message, Does.Contain("upstream"));
    }

    [TestCase("ftp://127.0.0.1/")]
    [TestCase("not a url")]
    [TestCase("http://127.0.0.1:5000/?q=1")]
    [TestCase("https://127.0.0.1:5000")]
    public void BadUpstreamUrlIsAnErrorNamingKeyAndValue(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => ProxyOptions.From(new AppInfo { ["upstream"] = url }));
        Assert.That(e!.Message, Does.Contain("upstream").And.Contain(url));
    }

    [TestCase("balance", "fastest")]
    [TestCase("upstream_timeout", "0")]
    [TestCase("fail_timeout", "-1")]
    [TestCase("path_base", "api")]
    [TestCase("buffer_size", "10")]
    [TestCase("preserve_host", "maybe")]
    [TestCase("via", "bad value")]
    public void InvalidSettingIsAnErrorNamingKeyAndValue(string key, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => ProxyOptions.From(new AppInfo { ["upstream"] = "http://127.0.0.1:1", [key] = value }));
        Assert.That(e!.Message, Does.Contain(key).And.Contain(value));
    }

    [Test]
    public void ServerWithBadSettingsFailsToStartWithTheMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => ProxyServer.Start("ftp://nowhere").Dispose());
        Assert.That(e!.Message, Does.Contain("upstream").And.Contain("ftp://nowhere"));
    }

    [Test]
    public void ProxyMethodIsDeclaredForThePluginLoader()
    {
        var attribute = typeof(ProxyWorker).Assembly.GetCustomAttributes(typeof(RocketMethodAttribute), false).Cast<RocketMethodAttribute>().Single();
        Assert.That(attribute.Name, Is.EqualTo("proxy"));
        Assert.That(attribute.WorkerType, Is.EqualTo(typeof(ProxyWorker)));
    }
}
