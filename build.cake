// Rocket.Owin build: dotnet tool restore && dotnet cake --target=<Task>
// Tasks: Clean, Build, Setup, Format, PublishPlugins, Test (default), Pack, Bench.
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var root = MakeAbsolute(Directory("."));
var artifacts = root.Combine("artifacts");
var testResults = artifacts.Combine("test-results");

// The engine the second test pass runs with: the one that is not the default (Rocket.Core/README.md, Threads).
var otherEngine = "0";
var otherEngineFilter = string.Join("|", new[]
{
    // keep-alive, pipelining, bodies, framing; head/idle timeouts and slow or never-reading clients; Stop and drain; accepts,
    // never-blocking waits, disconnects, upgrades; mutated requests
    "Wire.KeepAliveTests", "Wire.EngineTests", "Wire.RequestBodyTests", "Wire.ResponseFramingTests", "Wire.LimitTests",
    "Wire.ResourceLimitTests", "Wire.DrainTests", "Wire.LifecycleTests", "Wire.AcceptTests", "Wire.NeverBlocksTests",
    "Wire.DisconnectWatchTests", "Wire.UpgradeAndAbortTests", "Wire.FuzzTests", "Wire.LoopSocketContextTests",
    // the monitor's thread, which runs the loop too: lending, hand-over, retiring; timers beside the loop's edges
    "Wire.MonitorLoopTests", "Wire.MonitorThreadTests", "Unit.MonitorTimerTests",
    // the proxy (upstream head waits and connects are the loop's)
    "Proxy.ProxyForwardingTests", "Proxy.ProxyBodyTests", "Proxy.ProxyFailureTests", "Proxy.ProxyUpstreamClientTests",
    "Proxy.ProxyHardeningTests", "Proxy.ProxyBalancingTests", "Proxy.ProxySpliceTests",
    // upgraded WebSocket streams on the wire, their lifetime and idle close
    "Owin.WebSocketWireTests", "Owin.WebSocketUpgradeLifetimeTests",
}.Select(c => "FullyQualifiedName~RocketOwin.Tests." + c + "."));

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

// What tests need beyond the SDK (chromium for the status page test), from the distribution's packages; quick when present.
Task("Setup")
    .Does(() =>
{
    if (StartProcess("bash", new ProcessSettings { Arguments = ".ci/setup.sh" }) != 0)
    {
        Warning(".ci/setup.sh failed; tests needing what it installs will be skipped.");
    }
});

// The tree is formatted as .editorconfig says (whitespace, code style, analyzer fixes): `dotnet format` (the SDK's own
// command, no download) checks it here and fixes it when run without --verify-no-changes. After Build, so the
// solution is restored and the check need not restore again.
Task("Format")
    .IsDependentOn("Build")
    .Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = "format Rocket.Owin.sln --verify-no-changes --no-restore --verbosity quiet" });
    if (exit != 0)
    {
        throw new Exception("dotnet format --verify-no-changes: the files above are not formatted as .editorconfig says; run `dotnet format Rocket.Owin.sln` and commit the result.");
    }
});

Task("Test")
    .IsDependentOn("Setup")
    .IsDependentOn("Build")
    .IsDependentOn("Format")
    .Does(() =>
{
    EnsureDirectoryExists(testResults);
    CleanDirectory(testResults);
    Exception failed = null;
    try
    {
        DotNetTest("./Rocket.Tests/Rocket.Tests.csproj", new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            Loggers = { "trx;LogFileName=Rocket.Tests.trx", "console;verbosity=normal" },
            ResultsDirectory = testResults,
            ArgumentCustomization = args => args.Append("--blame-hang-timeout 5m"),
        });
    }
    catch (Exception e)
    {
        failed = e; // the second pass still runs: both passes' results count (.ci/run sums every TRX here)
    }

    // Second pass: the socket-level classes again with the other socket engine (ROCKET_EPOLL, read by Rocket.Core's
    // EpollLoop), so both engines stay tested while the default may change. Chosen by what they cover: keep-alive,
    // pipelining, bodies, slow clients, limits, proxy, WebSocket idle, stop/drain. README.md (The two commands) lists them.
    DotNetTest("./Rocket.Tests/Rocket.Tests.csproj", new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        Filter = otherEngineFilter,
        EnvironmentVariables = { ["ROCKET_EPOLL"] = otherEngine },
        Loggers = { "trx;LogFileName=Rocket.Tests.other-engine.trx", "console;verbosity=minimal" },
        ResultsDirectory = testResults,
        ArgumentCustomization = args => args.Append("--blame-hang-timeout 5m"),
    });
    if (failed != null)
    {
        throw failed;
    }
});

// Every method project (Rocket.Methods.*, picked up by glob) and the sample plugin, each into plugins/<AssemblyName>/
// with only its own files: the host supplies Rocket.Core and NLog. The method projects reference both as ordinary
// references (what their packages need) marked Private=false / Publish=false, which keeps them out of this publish
// output and its .deps.json; the loop below is the safety net for a plugin project that does not.
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
                Warning("{0}: {1} should not be in a plugin folder (reference it with Private=false, and NLog with Publish=false); deleted.", name, shared);
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

// ./artifacts/*.nupkg: the libraries (RocketOwin.Core and one RocketOwin.Methods.* per method project, for an application
// that embeds the server) and the rocket command as a .NET tool (Rocket.Owin.Tool) with the plugins inside.
// One version for all: <Version> in Directory.Build.props.
Task("Pack")
    .IsDependentOn("PublishPlugins")
    .Does(() =>
{
    EnsureDirectoryExists(artifacts);
    DeleteFiles(artifacts.FullPath + "/*.nupkg");
    var projects = new[] { File("./Rocket.Core/Rocket.Core.csproj").Path }
        .Concat(GetFiles("./Rocket.Methods.*/*.csproj"))
        .Append(File("./Rocket.Host/Rocket.Host.csproj").Path);
    foreach (var project in projects)
    {
        DotNetPack(project.FullPath, new DotNetPackSettings { Configuration = configuration, OutputDirectory = artifacts });
    }
});

Task("Bench")
    .Does(() =>
{
    StartProcess("bash", new ProcessSettings { Arguments = "bench/setup.sh" });
    DotNetRun("./Rocket.Benchmarks/Rocket.Benchmarks.csproj", new ProcessArgumentBuilder().Append(Argument("bench", "plaintext")),
        new DotNetRunSettings { Configuration = "Release" });
});

RunTarget(target);
