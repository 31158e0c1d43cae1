using System.Diagnostics;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Packages;

/// <summary>
/// The declarations read from the metadata of the assemblies this test process depends on (its .deps.json): the three
/// method projects it references, nothing from the shared framework. (Fresh programs that never touch a method type,
/// where this lookup is what finds the method, are in <see cref="PackageConsumerTests"/>.)
/// </summary>
[TestFixture]
public sealed class DependencyMethodsTests
{
    [Test]
    public void MethodsOfTheReferencedMethodAssembliesAreReadFromTheirMetadata()
    {
        var clock = Stopwatch.StartNew();
        var all = DependencyMethods.All;
        TestContext.Progress.WriteLine($"DependencyMethods: {all.Count} declarations read in {clock.Elapsed.TotalMilliseconds:0} ms (or earlier, once per process)");

        var byName = all.ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
        Assert.That(byName.Keys, Is.SupersetOf(new[] { "owin", "static", "fs", "proxy" }));
        Assert.That(byName["fs"].AssemblyName, Is.EqualTo("Rocket.Methods.Static"), "aliases come from the attribute's named argument");
        Assert.That(byName["fs"].WorkerType, Is.EqualTo(byName["static"].WorkerType).And.EqualTo("RocketOwin.Methods.Static.StaticWorker"));
        Assert.That(byName["owin"].File, Is.EqualTo(Path.Combine(AppContext.BaseDirectory, "Rocket.Methods.Owin.dll")));
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        Assert.That(all.Select(m => m.File), Has.None.StartsWith(framework));
        Assert.That(DependencyMethods.Source, Does.Contain(".deps.json"));
    }

    [Test]
    public void TheDeclarationsAreReadOncePerProcess()
        => Assert.That(DependencyMethods.All, Is.SameAs(DependencyMethods.All));
}
