using NLog;
using NLog.Config;
using NLog.Targets;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's logger names: <c>Rocket</c> (everything), <c>Rocket.Requests</c> (one INFO line a request) and
/// <c>Rocket.Errors</c> with children per part, and <c>Rocket.Access</c> (the access log, off by default). A user's nlog.config (or configuration set in code) takes
/// over; without one, everything from Info up goes to the console.
/// </summary>
internal static class RocketLog
{
    private static readonly Lock Gate = new();

    public static Logger Main { get; } = LogManager.GetLogger("Rocket");

    public static Logger Requests { get; } = LogManager.GetLogger("Rocket.Requests");

    public static Logger Errors { get; } = LogManager.GetLogger("Rocket.Errors");

    /// <summary>
    /// The logger of one part, <c>Rocket.Errors.&lt;part&gt;</c>: the convention for every part of the engine and every
    /// method (the methods spell the same name out, e.g. <c>Rocket.Errors.Static</c>), so <c>Rocket.Errors*</c> routes them all.
    /// </summary>
    public static Logger Part(string part) => LogManager.GetLogger("Rocket.Errors." + part);

    /// <summary>Installs the console default when nothing configured NLog.</summary>
    public static void EnsureConfigured()
    {
        lock (Gate)
        {
            // Reading Configuration loads nlog.config when there is one.
            if (LogManager.Configuration is not null)
            {
                return;
            }

            var config = new LoggingConfiguration();
            var console = new ConsoleTarget("console")
            {
                Layout = "${longdate} ${level:uppercase=true:padding=-5} ${logger} ${message}${onexception:inner= ${exception:format=tostring}}",
            };

            // The access log (Rocket.Access) is off unless configured: the console has Rocket.Requests' line already.
            config.LoggingRules.Add(new LoggingRule { LoggerNamePattern = AccessLog.LoggerName, FinalMinLevel = LogLevel.Off });
            config.AddRule(LogLevel.Info, LogLevel.Fatal, console, "Rocket*");
            LogManager.Configuration = config;
        }
    }
}
