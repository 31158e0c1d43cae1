using System.Text.RegularExpressions;
using RocketOwin.Methods.Owin;
using RocketOwin.Methods.Proxy;
using RocketOwin.Methods.Static;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Unit;

/// <summary>Worker.AppInfoKeys: methods declare their keys, and Start refuses others with a "did you mean".</summary>
[TestFixture]
public sealed class AppInfoKeysTests
{
    [Test]
    public void StartRefusesAKeyTheMethodDoesNotReadAndSuggestsTheClosest()
    {
        var root = DotNetCli.NewTempDirectory("keys");
        try
        {
            using var server = new Rocket(("127.0.0.1", 0), "static", new AppInfo { ["document_root"] = root, ["display_idx"] = "true" }, handleSignals: false);
            var e = Assert.Throws<UnknownAppInfoKeyException>(() => server.Start(background: true))!;
            Assert.That(e.Key, Is.EqualTo("display_idx"));
            Assert.That(e.ParamName, Is.EqualTo("display_idx"));
            Assert.That(e.Problem, Does.StartWith("not a setting of method 'static'; did you mean display_index? (its settings: "));
            Assert.That(server.IsRunning, Is.False);
        }
        finally
        {
            DotNetCli.DeleteQuietly(root);
        }
    }

    [Test]
    public void AWildcardKeyCoversItsPrefixAndAWorkerThatDeclaresNothingIsNotChecked()
    {
        var root = DotNetCli.NewTempDirectory("keys");
        try
        {
            using (var server = new Rocket(("127.0.0.1", 0), "static", new AppInfo { ["document_root"] = root, ["MIME.webmanifest"] = "application/manifest+json" }, handleSignals: false))
            {
                Assert.DoesNotThrow(() => server.Start(background: true));
            }

            Rocket.RegisterMethod("undeclared-keys", Support.Apps.Hello);
            try
            {
                using var open = new Rocket(("127.0.0.1", 0), "undeclared-keys", new AppInfo { ["anything"] = 1 }, handleSignals: false);
                Assert.DoesNotThrow(() => open.Start(background: true));
            }
            finally
            {
                Rocket.UnregisterMethod("undeclared-keys");
            }
        }
        finally
        {
            DotNetCli.DeleteQuietly(root);
        }
    }

    /// <summary>A key documented but not declared would be refused at start; one declared but not documented is a secret. Both fail here.</summary>
    [TestCase(typeof(StaticWorker), "Rocket.Methods.Static")]
    [TestCase(typeof(ProxyWorker), "Rocket.Methods.Proxy")]
    [TestCase(typeof(OwinWorker), "Rocket.Methods.Owin")]
    public void EveryKeyInTheMethodsReadmeIsDeclaredAndNoOther(Type workerType, string project)
    {
        var worker = (Worker)Activator.CreateInstance(workerType)!;
        var declared = worker.AppInfoKeys!.Select(k => k.Replace("*", "<ext>", StringComparison.Ordinal)).Order().ToList();
        var readme = File.ReadAllText(Path.Combine(DotNetCli.RepositoryRoot, project, "README.md"));
        var documented = Regex.Matches(readme, @"^\| `([a-z_.<>]+)` \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        Assert.That(declared, Is.EqualTo(documented));
    }
}
