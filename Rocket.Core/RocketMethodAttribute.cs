namespace RocketOwin;

/// <summary>
/// Declares that an assembly serves a method: <c>[assembly: RocketMethod("static", typeof(StaticWorker), Aliases = ["fs"])]</c>.
/// The worker type must derive from <see cref="Worker"/> and have a public parameterless constructor.
/// Names are case-insensitive.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class RocketMethodAttribute : Attribute
{
    /// <summary>Declares <paramref name="workerType"/> as the worker for method <paramref name="name"/>.</summary>
    public RocketMethodAttribute(string name, Type workerType)
    {
        Name = name;
        WorkerType = workerType;
    }

    /// <summary>The method name (e.g. <c>owin</c>).</summary>
    public string Name { get; }

    /// <summary>The <see cref="Worker"/> subclass serving it.</summary>
    public Type WorkerType { get; }

    /// <summary>Other names for the same method (e.g. Rocket's <c>fs</c> for <c>static</c>).</summary>
    public string[] Aliases { get; set; } = [];
}
