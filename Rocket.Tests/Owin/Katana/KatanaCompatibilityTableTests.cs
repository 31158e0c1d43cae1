using System.Reflection;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Owin.Katana;

/// <summary>Keeps the README's Katana compatibility table true: every row names a known status and tests that exist.</summary>
public class KatanaCompatibilityTableTests
{
    private static readonly string[] Statuses = ["as Katana", "as Katana, one choice", "as Katana and Nowin", "choice", "served", "not carried"];

    [Test]
    public void EveryRowOfTheCompatibilityTableNamesExistingTests()
    {
        var readme = File.ReadAllLines(Path.Combine(DotNetCli.RepositoryRoot, "Rocket.Methods.Owin", "README.md"));
        var start = Array.IndexOf(readme, "## Katana compatibility");
        Assert.That(start, Is.GreaterThan(0), "the README has a Katana compatibility section");
        var rows = readme.Skip(start).SkipWhile(l => !l.StartsWith("| Katana area", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(15));

        var tests = typeof(KatanaCompatibilityTableTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => m.GetCustomAttributes().Any(a => a is TestAttribute or TestCaseAttribute))
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);

        foreach (var row in rows)
        {
            var cells = row.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.That(cells, Has.Length.EqualTo(4), row);
            Assert.That(Statuses, Does.Contain(cells[1]), row);
            var named = cells[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(named.Length > 0 || cells[1] == "not carried", Is.True, "a row without tests: " + row);
            foreach (var name in named)
            {
                Assert.That(tests, Does.Contain(name), row);
            }
        }
    }
}
