using System.Text;

namespace RocketOwin.Tests.Plugins;

/// <summary>
/// Real plugin projects, generated into a temp folder and built once per test run (one MSBuild invocation for all of
/// them), plus samples/CustomMethod published into its own plugins folder the way a user would.
/// </summary>
/// <remarks>
/// <see cref="MainFolder"/>: Alpha (method alpha, alias first; carries SharedLib 1.0), Beta (beta; carries SharedLib 2.0),
/// NotWorker (declares a type that is not a Worker), Throws (its worker's constructor throws), Garbage (a DLL that is not
/// .NET), Empty (a folder without its DLL). <see cref="DuplicateFolder"/>: TwinOne (twin and solo) and TwinTwo (twin).
/// Generated plugins reference the very Rocket.Core.dll this test process runs with (Private=false), which is what a
/// plugin's ProjectReference with Private=false/ExcludeAssets=runtime amounts to, without rebuilding Rocket.Core.
/// </remarks>
public static class TestPlugins
{
    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> Sample = new(PublishSample, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly string Root = DotNetCli.NewTempDirectory("rocket-plugins");

    /// <summary>Deletes the built plugins (called once after all tests by <see cref="TestPluginsCleanup"/>).</summary>
    public static void DeleteAll() => DotNetCli.DeleteQuietly(Root);

    public static string MainFolder => Path.Combine(Built.Value, "main");

    public static string DuplicateFolder => Path.Combine(Built.Value, "dup");

    /// <summary>A plugins folder holding only samples/CustomMethod, published with dotnet publish.</summary>
    public static string SampleFolder => Sample.Value;

    public static string PluginFile(string folder, string name) => Path.Combine(folder, name, name + ".dll");

    private static string Build()
    {
        var src = Path.Combine(Root, "src");
        var plugins = Path.Combine(Root, "plugins");
        var main = Path.Combine(plugins, "main");
        var dup = Path.Combine(plugins, "dup");
        // The two libraries share a name, so they are built through the plugins' references, not listed in the solution.
        Library(src, "lib1", "1.0.0");
        Library(src, "lib2", "2.0.0");
        var projects = new List<string>
        {
            Plugin(src, main, "Alpha", VersionWorker("Alpha", "alpha"), "../lib1/SharedLib.csproj", """[assembly: RocketMethod("alpha", typeof(Alpha.AlphaWorker), Aliases = new[] { "first" })]"""),
            Plugin(src, main, "Beta", VersionWorker("Beta", "beta"), "../lib2/SharedLib.csproj", """[assembly: RocketMethod("beta", typeof(Beta.BetaWorker))]"""),
            Plugin(src, main, "NotWorker", "namespace NotWorker; public sealed class Plain { }", null, """[assembly: RocketMethod("notworker", typeof(NotWorker.Plain))]"""),
            Plugin(src, main, "Throws", TextWorker("Throws", "ThrowingWorker", "never", "public ThrowingWorker() => throw new InvalidOperationException(\"database unreachable\");"), null, """[assembly: RocketMethod("throws", typeof(Throws.ThrowingWorker))]"""),
            Plugin(src, dup, "TwinOne", TextWorker("TwinOne", "TwinWorker", "twin one", string.Empty), null, """[assembly: RocketMethod("twin", typeof(TwinOne.TwinWorker))] [assembly: RocketMethod("solo", typeof(TwinOne.TwinWorker))]"""),
            Plugin(src, dup, "TwinTwo", TextWorker("TwinTwo", "TwinWorker", "twin two", string.Empty), null, """[assembly: RocketMethod("TWIN", typeof(TwinTwo.TwinWorker))]"""),
        };

        Directory.CreateDirectory(Path.Combine(main, "Garbage"));
        File.WriteAllText(Path.Combine(main, "Garbage", "Garbage.dll"), "this is not a .NET assembly, just text with a .dll name");
        Directory.CreateDirectory(Path.Combine(main, "Empty"));

        var slnx = new StringBuilder("<Solution>\n");
        foreach (var p in projects)
        {
            slnx.Append("  <Project Path=\"").Append(Path.GetRelativePath(src, p)).Append("\" />\n");
        }

        File.WriteAllText(Path.Combine(src, "plugins.slnx"), slnx.Append("</Solution>\n").ToString());
        DotNetCli.Run("dotnet", "build plugins.slnx -c Release -nodeReuse:false -v:m", src);
        return plugins;
    }

    private static string PublishSample()
    {
        var folder = Path.Combine(Root, "sample-plugins");
        var project = Path.Combine(DotNetCli.RepositoryRoot, "samples", "CustomMethod", "CustomMethod.csproj");

        // BuildProjectReferences=false: Rocket.Core is already built (this test process runs it); rebuilding it here
        // could race a concurrent build of the solution.
        DotNetCli.Run("dotnet", $"publish \"{project}\" -c {DotNetCli.Configuration} -o \"{Path.Combine(folder, "CustomMethod")}\" -p:BuildProjectReferences=false -nodeReuse:false -v:m");
        return folder;
    }

    private static string Library(string src, string folder, string version)
    {
        var dir = Path.Combine(src, folder);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "SharedLib.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Version>{version}</Version>
                <AssemblyVersion>{version}.0</AssemblyVersion>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Info.cs"), $$"""
            namespace SharedLib;
            public static class Info { public static string Text => "lib {{version}}"; }
            """);
        return Path.Combine(dir, "SharedLib.csproj");
    }

    private static string Plugin(string src, string pluginsFolder, string name, string code, string? libraryProject, string declaration)
    {
        var dir = Path.Combine(src, name);
        Directory.CreateDirectory(dir);
        var coreDll = typeof(Worker).Assembly.Location;
        var library = libraryProject is null ? string.Empty : $"<ProjectReference Include=\"{libraryProject}\" />";
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <EnableDynamicLoading>true</EnableDynamicLoading>
                <OutputPath>{Path.Combine(pluginsFolder, name)}/</OutputPath>
                <AppendTargetFrameworkToOutputPath>false</AppendTargetFrameworkToOutputPath>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="Rocket.Core"><HintPath>{coreDll}</HintPath><Private>false</Private></Reference>
                {library}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Plugin.cs"), "using RocketOwin;\n" + declaration + "\n" + code + "\n");
        return Path.Combine(dir, name + ".csproj");
    }

    /// <summary>A worker answering "&lt;method&gt; lib X version V context C" from the SharedLib it carries.</summary>
    private static string VersionWorker(string ns, string method) => $$"""
        namespace {{ns}};
        public sealed class {{ns}}Worker : Worker
        {
            protected override ValueTask HandleAsync(RequestContext context)
            {
                var lib = typeof(SharedLib.Info).Assembly;
                var loadContext = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(lib)?.Name;
                context.Response.Write(System.Text.Encoding.UTF8.GetBytes($"{{method}} {SharedLib.Info.Text} version {lib.GetName().Version} context {loadContext}"));
                return ValueTask.CompletedTask;
            }
        }
        """;

    private static string TextWorker(string ns, string type, string text, string constructor) => $$"""
        namespace {{ns}};
        public sealed class {{type}} : Worker
        {
            {{constructor}}

            protected override ValueTask HandleAsync(RequestContext context)
            {
                context.Response.Write("{{text}}"u8);
                return ValueTask.CompletedTask;
            }
        }
        """;
}
