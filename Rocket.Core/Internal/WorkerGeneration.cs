using System.Runtime.Loader;

namespace RocketOwin.Internal;

/// <summary>
/// One worker a server has served with: the first from Start, then one per <see cref="Rocket.Reload"/>. A reloaded
/// plugin's generation owns the collectible load context its code (and, for owin, the app) was loaded into.
/// </summary>
internal sealed class WorkerGeneration(int number, string method, Worker worker, AssemblyLoadContext? context)
{
    public int Number { get; } = number;

    public string Method { get; } = method;

    /// <summary>Null once retired (so nothing here keeps the old code alive).</summary>
    public Worker? Worker { get; private set; } = worker;

    /// <summary>The collectible context of a reloaded plugin; null for code loaded at start or registered in code.</summary>
    public AssemblyLoadContext? Context { get; private set; } = context;

    /// <summary>Drops the references to the worker and its context; returns the context to unload, if any.</summary>
    public AssemblyLoadContext? Release()
    {
        var context = Context;
        Worker = null;
        Context = null;
        return context;
    }

    public override string ToString() => $"generation {Number} ({Method})";
}
