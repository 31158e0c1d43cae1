// Rocket.Owin build: dotnet tool restore && dotnet cake --target=<Task>
// Tasks: Clean, Build, PublishPlugins, Test (default), Pack, Bench.
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var testResults = artifacts.Combine("test-results");

Task("Clean")
    .Does(() =>
{
    CleanDirectories("./**/bin/" + configuration);
    CleanDirectories("./**/obj");
    CleanDirectory(artifacts);
});

Task("Build")
    .Does(() =>
{
    DotNetBuild("./Rocket.Owin.sln", new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    EnsureDirectoryExists(testResults);
    CleanDirectory(testResults);
    DotNetTest("./Rocket.Tests/Rocket.Tests.csproj", new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        Loggers = { "trx;LogFileName=Rocket.Tests.trx", "console;verbosity=normal" },
        ResultsDirectory = testResults,
        ArgumentCustomization = args => args.Append("--blame-hang-timeout 5m"),
    });
});

// Every method project (Rocket.Methods.*, picked up by glob) and the sample plugin, each into plugins/<AssemblyName>/
// with only its own files: the host supplies Rocket.Core and NLog.
Task("PublishPlugins")
    .Does(() =>
{
    var plugins = root.Combine("plugins");
    EnsureDirectoryExists(plugins);
    foreach (var stale in GetSubDirectories(plugins))
    {
        DeleteDirectory(stale, new DeleteDirectorySettings { Recursive = true, Force = true });
    }

    var projects = GetFiles("./Rocket.Methods.*/*.csproj").Concat(GetFiles("./samples/CustomMethod/CustomMethod.csproj"));
    foreach (var project in projects)
    {
        // Plugin folder and DLL are named after the assembly, which is the project name for every plugin here.
        var name = project.GetFilenameWithoutExtension().FullPath;
        var output = plugins.Combine(name);
        DotNetPublish(project.FullPath, new DotNetPublishSettings { Configuration = configuration, OutputDirectory = output });
        foreach (var shared in new[] { "Rocket.Core.dll", "Rocket.Core.pdb", "Rocket.Core.xml", "NLog.dll", "NLog.xml" })
        {
            var file = output.CombineWithFilePath(shared);
            if (FileExists(file))
            {
                // A second copy of the contract in a plugin folder would never be loaded, but it misleads: remove it.
                Warning("{0}: {1} should not be in a plugin folder (reference it with Private=false/ExcludeAssets=runtime); deleted.", name, shared);
                DeleteFile(file);
            }
        }

        if (!FileExists(output.CombineWithFilePath(name + ".dll")))
        {
            throw new Exception($"{project}: publishing did not produce plugins/{name}/{name}.dll (is AssemblyName the project name?)");
        }

        Information("plugins/{0}/", name);
    }
});

// The rocket command as a .NET tool (package Rocket.Owin.Tool) with the plugins inside: ./artifacts/*.nupkg.
Task("Pack")
    .IsDependentOn("PublishPlugins")
    .Does(() =>
{
    EnsureDirectoryExists(artifacts);
    DotNetPack("./Rocket.Host/Rocket.Host.csproj", new DotNetPackSettings { Configuration = configuration, OutputDirectory = artifacts });
});

Task("Bench")
    .Does(() =>
{
    StartProcess("bash", new ProcessSettings { Arguments = "bench/setup.sh" });
    DotNetRun("./Rocket.Benchmarks/Rocket.Benchmarks.csproj", new ProcessArgumentBuilder().Append(Argument("bench", "plaintext")),
        new DotNetRunSettings { Configuration = "Release" });
});

RunTarget(target);
