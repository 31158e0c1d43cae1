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

Task("Bench")
    .Does(() =>
{
    StartProcess("bash", new ProcessSettings { Arguments = "bench/setup.sh" });
    DotNetRun("./Rocket.Benchmarks/Rocket.Benchmarks.csproj", new ProcessArgumentBuilder().Append(Argument("bench", "plaintext")),
        new DotNetRunSettings { Configuration = "Release" });
});

RunTarget(target);
