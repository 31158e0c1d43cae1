using System.Net;
using NLog;
using NLog.Config;
using NLog.Targets;

namespace RocketOwin.Tests.Support;

/// <summary>
/// A Rocket on 127.0.0.1 port 0 serving one test worker, started in the background and stopped on dispose.
/// Each instance registers its worker under a unique method name.
/// </summary>
public sealed class TestServer : IDisposable
{
    private static int _counter;
    private readonly string _method;

    public TestServer(Worker worker, AppInfo? appInfo = null, int minThreads = 4, int maxThreads = 0, int timeout = 600, ServerLimits? limits = null, IEnumerable<ListenInterface>? interfaces = null)
        : this(() => worker, appInfo, minThreads, maxThreads, timeout, limits, interfaces)
    {
    }

    public TestServer(Func<Worker> factory, AppInfo? appInfo = null, int minThreads = 4, int maxThreads = 0, int timeout = 600, ServerLimits? limits = null, IEnumerable<ListenInterface>? interfaces = null)
    {
        TestLogging.EnsureConfigured();
        _method = "test-" + Interlocked.Increment(ref _counter);
        Rocket.RegisterMethod(_method, factory);
        Server = new Rocket(interfaces ?? [("127.0.0.1", 0)], _method, appInfo, minThreads, maxThreads, timeout: timeout, handleSignals: false, limits: limits);
        Server.Start(background: true);
    }

    public Rocket Server { get; }

    public IPEndPoint EndPoint => Server.BoundEndPoints[0];

    public int Port => EndPoint.Port;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    public RawClient Connect() => new(EndPoint);

    public void Dispose()
    {
        Server.Stop();
        Rocket.UnregisterMethod(_method);
    }
}

/// <summary>Keeps test output readable: Rocket logs go to an in-memory target tests can inspect.</summary>
public static class TestLogging
{
    private static readonly Lock Gate = new();
    private static MemoryTarget? _memory;

    public static MemoryTarget Memory
    {
        get
        {
            EnsureConfigured();
            return _memory!;
        }
    }

    public static void EnsureConfigured()
    {
        lock (Gate)
        {
            if (_memory is not null)
            {
                return;
            }

            _memory = new MemoryTarget("memory") { Layout = "${level:uppercase=true} ${logger} ${message}${onexception:inner= ${exception:format=type,message}}", MaxLogsCount = 5000 };
            var config = new LoggingConfiguration();
            // As Rocket's own default: the access log (Rocket.Access) only where a test routes it.
            config.LoggingRules.Add(new LoggingRule { LoggerNamePattern = "Rocket.Access", FinalMinLevel = NLog.LogLevel.Off });
            config.AddRule(NLog.LogLevel.Debug, NLog.LogLevel.Fatal, _memory, "Rocket*");
            LogManager.Configuration = config;
        }
    }
}
