using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace RocketOwin.Internal;

/// <summary>
/// Live reload (Apache's graceful restart): a new worker is created and initialised beside the running one, new
/// requests go to it, requests in flight finish on the old one, which is then shut down and, for a plugin, its load
/// context unloaded. The listening sockets, connections, threads and the connection monitor stay as they are.
/// </summary>
/// <remarks>
/// A plugin is read from disk again into a new collectible <see cref="PluginLoadContext"/>, so a new build of the
/// plugin and (for owin, which loads the app into its own context) of the <c>app</c> DLL are picked up. A method
/// registered in code or loaded in the process gets a new instance of the same code. The generation loaded at Start
/// is not collectible (it keeps the fast path of ordinary loading); every reloaded one is, and is unloaded.
/// </remarks>
internal sealed class Reloader(ServerCore core, string pluginsDirectory, WorkerGeneration first)
{
    private const int CollectAttempts = 20;
    private readonly Lock _gate = new();
    private readonly List<Task> _retiring = [];
    private readonly List<(int Number, WeakReference Context)> _unloaded = [];
    private WorkerGeneration _current = first;

    public WorkerGeneration Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Retired generations whose context was unloaded, with a weak reference to it (alive = still in memory).</summary>
    public IReadOnlyList<(int Number, WeakReference Context)> Unloaded
    {
        get
        {
            lock (_gate)
            {
                return [.. _unloaded];
            }
        }
    }

    /// <summary>Creates and initialises the next generation and switches new requests to it; the old one retires in the background.</summary>
    /// <exception cref="InvalidOperationException">The method cannot be found or loaded, or its worker cannot be created.</exception>
    /// <exception cref="ArgumentException">The worker refused its appInfo (Initialize threw).</exception>
    public WorkerGeneration Reload(string method, AppInfo appInfo)
    {
        var number = Current.Number + 1;
        var (worker, context) = Create(method);
        try
        {
            Rocket.CheckAppInfoKeys(worker, method, appInfo);
            worker.Attach(core, appInfo, method);
            worker.RunInitialize();
        }
        catch
        {
            context?.Unload();
            throw;
        }

        var next = new WorkerGeneration(number, method, worker, context);
        WorkerGeneration old;
        lock (_gate)
        {
            old = _current;
            _current = next;
            core.AppInfo = appInfo;
            core.MethodName = method;
            core.Worker = worker;
            _retiring.RemoveAll(t => t.IsCompleted);
            _retiring.Add(Task.Run(() => Retire(old)));
        }

        return next;
    }

    /// <summary>Stop's end: waits for retiring generations, then shuts the current one down.</summary>
    public void ShutdownAll(TimeSpan bound)
    {
        Task[] retiring;
        lock (_gate)
        {
            retiring = [.. _retiring];
        }

        Task.WaitAll(retiring, bound);
        Shutdown(Current);
    }

    private (Worker Worker, AssemblyLoadContext? Context) Create(string method)
    {
        var file = MethodRegistry.PluginFileFor(method, pluginsDirectory);
        if (file is null)
        {
            return (MethodRegistry.Create(method, pluginsDirectory), null);
        }

        var context = new PluginLoadContext(file, collectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(file);
            var attribute = assembly.GetCustomAttributes<RocketMethodAttribute>()
                .FirstOrDefault(a => string.Equals(a.Name, method, StringComparison.OrdinalIgnoreCase) || a.Aliases.Contains(method, StringComparer.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"method '{method}': {file} no longer declares it.");
            return (MethodRegistry.CreateDeclared(attribute, file), context);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            context.Unload();
            throw new InvalidOperationException($"method '{method}' in {file}: cannot be loaded again: {e.Message}", e);
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    private void Retire(WorkerGeneration old)
    {
        var weak = FinishAndUnload(old);
        if (weak is null)
        {
            RocketLog.Main.Info("Reload: {0} retired.", old);
            return;
        }

        lock (_gate)
        {
            _unloaded.Add((old.Number, weak));
        }

        for (var i = 0; i < CollectAttempts && weak.IsAlive; i++)
        {
            // Unloading completes only when nothing references the context's code any more; a reload is rare enough
            // to pay for full collections so that the log can say whether the memory really came back.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (weak.IsAlive)
            {
                Thread.Sleep(50);
            }
        }

        if (weak.IsAlive)
        {
            RocketLog.Main.Warn("Reload: {0} retired, but its load context is still referenced (something keeps the old code alive: a static, a thread, a timer or an event subscription of the app); its memory is not returned.", old);
        }
        else
        {
            RocketLog.Main.Info("Reload: {0} retired and unloaded (its load context was collected).", old);
        }
    }

    /// <summary>
    /// Lets the old worker's requests finish (within the shutdown timeout), shuts it down, drops it and unloads its
    /// context. A frame of its own: the JIT may keep temporaries alive to the end of a method, and none may outlive this.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference? FinishAndUnload(WorkerGeneration old)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(core.Limits.ShutdownTimeout.TotalSeconds * Stopwatch.Frequency);
        while (old.Worker is { InFlight: > 0 } && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Sleep(20);
        }

        if (old.Worker is { InFlight: > 0 } busy)
        {
            RocketLog.Main.Warn("Reload: {0} still has {1} request(s) running after the shutdown timeout; shutting it down anyway.", old, busy.InFlight);
        }

        Shutdown(old);
        return ReleaseAndUnload(old);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference? ReleaseAndUnload(WorkerGeneration old)
    {
        // In a frame of its own, so no strong reference to the context or the worker survives in the caller's.
        var context = old.Release();
        if (context is null)
        {
            return null;
        }

        context.Unload();
        return new WeakReference(context);
    }

    private static void Shutdown(WorkerGeneration generation)
    {
        try
        {
            generation.Worker?.RunShutdown();
        }
        catch (Exception e)
        {
            RocketLog.Errors.Error(e, "The {0} worker of {1} failed while shutting down.", generation.Method, generation);
        }
    }
}
