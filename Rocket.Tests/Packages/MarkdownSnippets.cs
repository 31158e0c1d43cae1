using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Packages;

/// <summary>A fenced <c>```csharp</c> block of a Markdown file: the file (relative to the repository), the line of its opening fence, its code.</summary>
public sealed record MarkdownSnippet(string File, int Line, string Code)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Reads the C# blocks out of the repository's Markdown, as the docs show them (nothing copied into tests).</summary>
public static class MarkdownSnippets
{
    /// <summary>The documents whose C# blocks must compile: the README, Rocket.Core's, and every page of each method project.</summary>
    public static IReadOnlyList<string> Documents()
        => new[] { "README.md", Path.Combine("Rocket.Core", "README.md") }
            .Concat(Directory.GetDirectories(DotNetCli.RepositoryRoot, "Rocket.Methods.*")
                .SelectMany(d => Directory.GetFiles(d, "*.md"))
                .Select(f => Path.GetRelativePath(DotNetCli.RepositoryRoot, f)))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Every <c>```csharp</c> (or <c>```cs</c>) block of <paramref name="file"/> (relative to the repository root).</summary>
    public static IReadOnlyList<MarkdownSnippet> Read(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(DotNetCli.RepositoryRoot, file));
        var result = new List<MarkdownSnippet>();
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = lines[i].Trim();
            if (fence is not ("```csharp" or "```cs" or "```c#"))
            {
                continue;
            }

            var start = i;
            var code = new List<string>();
            for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
            {
                code.Add(lines[i]);
            }

            if (i == lines.Length)
            {
                Assert.Fail($"{file}:{start + 1}: the ```csharp block is never closed.");
            }

            result.Add(new MarkdownSnippet(file, start + 1, string.Join('\n', code) + "\n"));
        }

        return result;
    }

    /// <summary>The one block of <paramref name="file"/> that contains <paramref name="marker"/>.</summary>
    public static MarkdownSnippet Single(string file, string marker)
    {
        var matches = Read(file).Where(s => s.Code.Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.That(matches, Has.Count.EqualTo(1), $"{file}: expected exactly one ```csharp block containing {marker}");
        return matches[0];
    }
}
