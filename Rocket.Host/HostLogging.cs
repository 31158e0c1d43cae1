using NLog;
using NLog.Config;
using NLog.Targets;

namespace RocketOwin.Host;

/// <summary>
/// NLog for the rocket command: the user's <c>nlog.config</c> (looked for in the working folder, then beside the config
/// file, then beside the program), and the access log of <c>--access-log</c> added to whatever configuration that gives.
/// Without either, Rocket.Core's console default applies.
/// </summary>
internal static class HostLogging
{
    private const string FileName = "nlog.config";

    /// <summary>The nlog.config the command uses, or null.</summary>
    public static string? FindConfig(string? configFile)
    {
        var folders = new[] { Directory.GetCurrentDirectory(), configFile is null ? null : Path.GetDirectoryName(Path.GetFullPath(configFile)), AppContext.BaseDirectory };
        return folders.Where(f => f is not null).Select(f => Path.Combine(f!, FileName)).FirstOrDefault(File.Exists);
    }

    /// <summary>Loads the user's nlog.config (if any) and adds the access log (if asked).</summary>
    /// <exception cref="HostException">The nlog.config is broken, or an access log setting is wrong; the message names it.</exception>
    public static void Configure(HostSettings settings)
    {
        var found = FindConfig(settings.ConfigFile);
        LoggingConfiguration? configuration = null;
        if (found is not null)
        {
            try
            {
                configuration = new XmlLoggingConfiguration(found);
            }
            catch (Exception e) when (e is NLogConfigurationException or IOException or UnauthorizedAccessException or System.Xml.XmlException)
            {
                throw new HostException($"{found}: not a usable NLog configuration ({RocketCommand.OneLine(e.InnerException?.Message ?? e.Message)})");
            }
        }

        if (configuration is not null)
        {
            LogManager.Configuration = configuration;
        }

        if (settings.AccessLog is not null)
        {
            // On top of the user's configuration or Rocket's console default, first and final: access lines go to the
            // access log only, not also to a catch-all target.
            RocketOwin.Internal.RocketLog.EnsureConfigured();
            configuration = LogManager.Configuration!;
            var target = AccessLogTarget(settings);
            configuration.AddTarget(target);
            configuration.LoggingRules.Insert(0, new LoggingRule(RocketOwin.Internal.AccessLog.LoggerName, LogLevel.Info, target) { Final = true });
            LogManager.Configuration = configuration;
        }
        else if (settings.AccessLogRotate is not null || settings.AccessLogKeep is not null)
        {
            throw new HostException("--access-log-rotate and --access-log-keep need --access-log FILE.");
        }
    }

    /// <summary>The access log file target: one line per request, nothing else; rotated as <c>--access-log-rotate</c> says.</summary>
    internal static FileTarget AccessLogTarget(HostSettings settings)
    {
        var target = new FileTarget("accessLog")
        {
            FileName = settings.AccessLog!,
            Layout = "${message}",
            CreateDirs = true,
            KeepFileOpen = true,

            // Written through a buffer flushed once a second: a write syscall per request would cost more than the request.
            AutoFlush = false,
            OpenFileFlushTimeout = 1,
            MaxArchiveFiles = settings.AccessLogKeep ?? 10,
        };
        if (settings.AccessLogKeep is < 0)
        {
            throw new HostException($"--access-log-keep {settings.AccessLogKeep}: expected 0 or more files.");
        }

        var rotate = settings.AccessLogRotate?.Trim();
        if (string.IsNullOrEmpty(rotate) || rotate.Equals("never", StringComparison.OrdinalIgnoreCase))
        {
            return target;
        }

        // The file keeps its name; rotated ones are moved aside as access_01.log, access_02.log, ... (numbers keep rising).
        target.ArchiveFileName = settings.AccessLog!;
        switch (rotate.ToUpperInvariant())
        {
            case "DAILY":
                target.ArchiveEvery = FileArchivePeriod.Day;
                break;
            case "HOURLY":
                target.ArchiveEvery = FileArchivePeriod.Hour;
                break;
            default:
                target.ArchiveAboveSize = LimitSettings.ParseSize(rotate) is > 0 and var size
                    ? size
                    : throw new HostException($"--access-log-rotate {rotate}: expected a size such as 100MiB, or daily, hourly or never.");
                break;
        }

        return target;
    }
}
