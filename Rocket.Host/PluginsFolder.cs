namespace RocketOwin.Host;

/// <summary>
/// Which plugins folder the command uses: <c>--plugins</c> (or the config file's <c>plugins</c>), else
/// <c>ROCKET_PLUGINS</c>, else <c>plugins/</c> next to rocket.dll (how the installed tool ships them), else — when
/// running from a clone with <c>dotnet run --project Rocket.Host</c> — the <c>plugins/</c> folder next to
/// Rocket.Owin.sln in a parent directory (where <c>dotnet cake --target=PublishPlugins</c> puts them).
/// </summary>
internal static class PluginsFolder
{
    public static string Resolve(string? given)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            return Path.GetFullPath(given);
        }

        if (Environment.GetEnvironmentVariable("ROCKET_PLUGINS") is { Length: > 0 })
        {
            return Rocket.DefaultPluginsDirectory;
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "plugins");
        if (Directory.Exists(beside))
        {
            return beside;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rocket.Owin.sln")))
            {
                var inClone = Path.Combine(dir.FullName, "plugins");
                return Directory.Exists(inClone) ? inClone : beside;
            }
        }

        return beside;
    }
}
