using System.Text;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Packages;

/// <summary>
/// What a user outside this repository does: the libraries packed into a temp feed (from the Release build the tests
/// run from, so nothing is rebuilt), then fresh console projects that reference one package (or one ProjectReference)
/// and nothing else, built with one MSBuild invocation per kind of reference.
/// </summary>
/// <remarks>
/// Package consumers restore through a nuget.config in the temp folder: the temp feed added to the machine's usual
/// sources (NLog comes from there), and a private global packages folder, so a package of the same version cached by an
/// earlier run can never stand in for this build's. ProjectReference consumers live in a sibling folder without that
/// config: their restore also restores the referenced projects of this repository, which must keep the normal cache.
/// </remarks>
public sealed class ConsumerApps
{
    private static readonly string[] LibraryProjects =
    [
        "Rocket.Core/Rocket.Core.csproj",
        "Rocket.Methods.Owin/Rocket.Methods.Owin.csproj",
        "Rocket.Methods.Static/Rocket.Methods.Static.csproj",
        "Rocket.Methods.Proxy/Rocket.Methods.Proxy.csproj",
    ];

    private readonly List<string> _fromFeed = [];
    private readonly List<string> _fromProjects = [];

    public ConsumerApps()
    {
        Root = DotNetCli.NewTempDirectory("rocket-packages");
        Feed = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Path.Combine(Root, "feed-apps"));
        Directory.CreateDirectory(Path.Combine(Root, "ref-apps"));

        // Nothing of an enclosing folder's MSBuild setup may leak into the "fresh" projects.
        File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(Root, "feed-apps", "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(Root, "packages")}" />
              </config>
              <packageSources>
                <add key="rocket-test-feed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
    }

    public string Root { get; }

    public string Feed { get; }

    /// <summary>Packs the four libraries into <see cref="Feed"/> with one <c>dotnet pack --no-build</c>.</summary>
    public void Pack()
    {
        var slnx = new StringBuilder("<Solution>\n");
        foreach (var project in LibraryProjects)
        {
            slnx.Append("  <Project Path=\"").Append(Path.Combine(DotNetCli.RepositoryRoot, project)).Append("\" />\n");
        }

        var solution = Path.Combine(Root, "libraries.slnx");
        File.WriteAllText(solution, slnx.Append("</Solution>\n").ToString());
        DotNetCli.Run("dotnet", $"pack \"{solution}\" -c {DotNetCli.Configuration} --no-build -o \"{Feed}\" -nodeReuse:false -v:m", Root);
    }

    /// <summary>A console project under feed-apps/ referencing exactly <paramref name="packages"/> (at this build's version).</summary>
    public string AddPackageConsumer(string name, IReadOnlyDictionary<string, string> files, params string[] packages)
    {
        var references = string.Concat(packages.Select(p => $"<PackageReference Include=\"{p}\" Version=\"{PackageVersion}\" />"));
        return Add(_fromFeed, Path.Combine(Root, "feed-apps", name), files, references);
    }

    /// <summary>A console project under ref-apps/ whose only reference is a ProjectReference to <paramref name="project"/> in this repository.</summary>
    public string AddProjectConsumer(string name, IReadOnlyDictionary<string, string> files, string project)
        => Add(_fromProjects, Path.Combine(Root, "ref-apps", name), files, $"<ProjectReference Include=\"{Path.Combine(DotNetCli.RepositoryRoot, project)}\" />");

    /// <summary>
    /// Builds every consumer added so far: one build for the package consumers and one for the ProjectReference ones,
    /// side by side (most of each is restore and MSBuild start-up, which overlap well).
    /// </summary>
    public void Build()
    {
        var fromFeed = Task.Run(() => BuildAll(Path.Combine(Root, "feed-apps"), _fromFeed, string.Empty));

        // BuildProjectReferences=false: this repository's projects are built already (the tests run from them); a
        // rebuild here could race a build of the solution. ShouldUnsetParentConfigurationAndPlatform=false: a project
        // outside the built solution would otherwise be looked for in its Debug output.
        var fromProjects = Task.Run(() => BuildAll(Path.Combine(Root, "ref-apps"), _fromProjects, "-p:BuildProjectReferences=false -p:ShouldUnsetParentConfigurationAndPlatform=false"));
        var failures = new[] { fromFeed.GetAwaiter().GetResult(), fromProjects.GetAwaiter().GetResult() }.OfType<string>().ToList();
        if (failures.Count > 0)
        {
            Assert.Fail(string.Join("\n\n", failures));
        }
    }

    /// <summary>The built program of consumer <paramref name="projectDirectory"/>.</summary>
    public static string Program(string projectDirectory)
        => Path.Combine(projectDirectory, "bin", DotNetCli.Configuration, "net10.0", Path.GetFileName(projectDirectory) + ".dll");

    public void Delete() => DotNetCli.DeleteQuietly(Root);

    /// <summary>The version every package of this build carries (Directory.Build.props), read from the packed engine.</summary>
    private string PackageVersion
    {
        get
        {
            var core = Directory.GetFiles(Feed, "RocketOwin.Core.*.nupkg").Single();
            return Path.GetFileNameWithoutExtension(core)["RocketOwin.Core.".Length..];
        }
    }

    private static string Add(List<string> group, string directory, IReadOnlyDictionary<string, string> files, string references)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, Path.GetFileName(directory) + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <!-- Run as `dotnet app.dll`; the native launcher is not needed. -->
                <UseAppHost>false</UseAppHost>
              </PropertyGroup>
              <ItemGroup>
                {references}
              </ItemGroup>
            </Project>
            """);
        foreach (var (name, code) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), code);
        }

        group.Add(directory);
        return directory;
    }

    /// <summary>Builds the projects of one folder; null when that worked, else the command and its output.</summary>
    private static string? BuildAll(string folder, List<string> projects, string properties)
    {
        if (projects.Count == 0)
        {
            return null;
        }

        var slnx = new StringBuilder("<Solution>\n");
        foreach (var p in projects)
        {
            slnx.Append("  <Project Path=\"").Append(Path.GetFileName(p)).Append('/').Append(Path.GetFileName(p)).Append(".csproj\" />\n");
        }

        File.WriteAllText(Path.Combine(folder, "apps.slnx"), slnx.Append("</Solution>\n").ToString());
        var arguments = $"build apps.slnx -c {DotNetCli.Configuration} {properties} -nodeReuse:false -v:m";
        var (exitCode, output) = DotNetCli.RunAllowingFailure("dotnet", arguments, folder);
        return exitCode == 0 ? null : $"`dotnet {arguments}` in {folder} exited {exitCode}:\n{output}";
    }
}
