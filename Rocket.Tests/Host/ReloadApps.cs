using System.Reflection.Emit;
using System.Text.Json;
using RocketOwin.Tests.Owin;
using RocketOwin.Tests.Plugins;

namespace RocketOwin.Tests.Host;

/// <summary>
/// What a reload test serves: the owin method as a real plugin folder (the built Rocket.Methods.Owin copied into
/// <c>plugins/</c>), versions of one Katana app written with PersistedAssemblyBuilder (same assembly name, one folder
/// each, as a new build would be deployed), and the config file the rocket command reads again on SIGUSR1.
/// </summary>
internal sealed class ReloadApps : IDisposable
{
    public const string AppName = "RocketReloadApp";

    public ReloadApps()
    {
        Folder = DotNetCli.NewTempDirectory("rocket-reload-");
        DotNetCli.CopyOwinPlugin(Path.Combine(Folder, "plugins"));
    }

    public string Folder { get; }

    public string ConfigFile => Path.Combine(Folder, "rocket.json");

    /// <summary>Writes v<paramref name="version"/>/RocketReloadApp.dll, whose Startup answers "version N" (or throws in Configuration).</summary>
    public string WriteVersion(int version, bool startupThrows = false)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Folder, "v" + version)).FullName;
        return EmittedAssemblies.WriteStartupApp(
            folder,
            AppName,
            il => il.Emit(OpCodes.Ldstr, "version " + version),
            startupThrows ? "startup of version " + version + " broke" : null);
    }

    /// <summary>Points the config file at <paramref name="appPath"/> (relative paths are the file's folder's).</summary>
    public void Configure(string appPath)
        => File.WriteAllText(ConfigFile, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["method"] = "owin",
            ["app"] = appPath,
            ["bind"] = new[] { "127.0.0.1:0" },
            ["plugins"] = "plugins",
            ["minThreads"] = 2,
        }));

    public void Dispose() => DotNetCli.DeleteQuietly(Folder);
}
