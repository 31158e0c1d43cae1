using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RocketOwin.Tests.Packages;

/// <summary>
/// Every C# block of the docs compiles against the public API, so the docs cannot drift from it. The blocks are read
/// from the Markdown (<see cref="MarkdownSnippets.Documents"/>: README.md, Rocket.Core/README.md and every .md of a
/// Rocket.Methods.* project), never copied here.
/// </summary>
/// <remarks>
/// The convention (also in Rocket.Core/README.md, "C# in the docs"):
/// - A <c>```csharp</c> block is one whole C# file, compiled alone as a user's file in a fresh console project would
///   be: the implicit usings of <c>dotnet new console</c> (System, System.IO, System.Collections.Generic, System.Linq,
///   System.Net.Http, System.Threading, System.Threading.Tasks), nullable on, references to .NET, Rocket.Core, every
///   Rocket.Methods.* assembly and NLog. Anything else it needs (<c>using RocketOwin;</c>, <c>using Owin;</c>) it says.
/// - With top-level statements it is a program (statements first, then the types it declares); without, a file of
///   types (a library). It may not use what another block declares.
/// - Compiler errors fail; warnings do not (a snippet may leave out what production code would add).
/// - Text that is deliberately not a whole file (an outline, pseudo-code) goes in a <c>```text</c> block instead.
/// A failure names the file, the block's line and each error at its line in the Markdown file.
/// </remarks>
[TestFixture]
public sealed class DocSnippetTests
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static IEnumerable<TestCaseData> Snippets()
        => MarkdownSnippets.Documents()
            .SelectMany(MarkdownSnippets.Read)
            .Select(s => new TestCaseData(s).SetName($"CSharpBlockCompiles({s.File.Replace('\\', '/')}:{s.Line})"));

    [Test]
    public void DocsHaveCSharpBlocksToCompile()
    {
        var documents = MarkdownSnippets.Documents();
        Assert.That(documents, Does.Contain("README.md").And.Contain(Path.Combine("Rocket.Core", "README.md")).And.Contain(Path.Combine("Rocket.Methods.Owin", "MIGRATING.md")));
        Assert.That(documents.Sum(d => MarkdownSnippets.Read(d).Count), Is.GreaterThanOrEqualTo(6), "the extraction finds the docs' ```csharp blocks");
    }

    [Test]
    public void ABlockThatDoesNotCompileIsReportedWithItsFileLineAndError()
    {
        var errors = Compile(new MarkdownSnippet("docs.md", 10, "using RocketOwin;\n\nvar server = new Rocket(\"no such overload\");\n"));
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith("docs.md:13: CS1729"), "the block starts after the fence at line 10, so its line 3 is line 13");
    }

    [TestCaseSource(nameof(Snippets))]
    public void CSharpBlockCompiles(MarkdownSnippet snippet)
    {
        var errors = Compile(snippet);
        Assert.That(errors, Is.Empty, $"The ```csharp block at {snippet} does not compile (convention: Rocket.Tests/Packages/DocSnippetTests.cs):\n{string.Join("\n", errors)}\n\n{snippet.Code}");
    }

    /// <summary>The compiler errors, each as <c>file:line: CSxxxx: message</c> with the line in the Markdown file.</summary>
    private static List<string> Compile(MarkdownSnippet snippet)
    {
        var tree = CSharpSyntaxTree.ParseText(snippet.Code, ParseOptions, path: snippet.File);
        var isProgram = ((CompilationUnitSyntax)tree.GetRoot()).Members.OfType<GlobalStatementSyntax>().Any();
        var options = new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [tree, CSharpSyntaxTree.ParseText(ImplicitUsings, ParseOptions, path: "ImplicitUsings.cs")],
            References.Value,
            options);
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d =>
            {
                var span = d.Location.GetLineSpan();
                var line = span.Path == snippet.File ? (snippet.Line + 1 + span.StartLinePosition.Line).ToString(CultureInfo.InvariantCulture) : span.Path;
                return $"{snippet.File}:{line}: {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}";
            })
            .ToList();
    }

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        // The reference pack of the running runtime's version when the SDK has it (what a project compiles against),
        // else the runtime's own assemblies.
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        var refPack = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref", Path.GetFileName(runtimeDirectory), "ref", "net10.0");
        var framework = Directory.Exists(refPack) ? refPack : runtimeDirectory;
        var ours = new[] { "Rocket.Core.dll", "NLog.dll" }
            .Select(f => Path.Combine(AppContext.BaseDirectory, f))
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "Rocket.Methods.*.dll"));
        return Directory.GetFiles(framework, "*.dll")
            .Where(IsManaged)
            .Concat(ours)
            .Select(f => (MetadataReference)MetadataReference.CreateFromFile(f))
            .ToList();
    }

    private static bool IsManaged(string file)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(file);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
