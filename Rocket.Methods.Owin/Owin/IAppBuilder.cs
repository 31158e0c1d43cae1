namespace Owin;

/// <summary>Builds an OWIN pipeline (the <c>Owin</c> package's IAppBuilder, unchanged).</summary>
public interface IAppBuilder
{
    /// <summary>Properties shared between the host, the builder and the middleware (server.Capabilities, host.TraceOutput, ...).</summary>
    IDictionary<string, object> Properties { get; }

    /// <summary>
    /// Adds a middleware: a delegate taking the next component (and <paramref name="args"/>) and returning this one,
    /// a type whose constructor takes the next component and <paramref name="args"/>, an instance with an
    /// <c>Initialize(next, args...)</c> method and an <c>Invoke</c> method, or an instance whose
    /// <c>Invoke(next, args...)</c> returns the component (Katana's four shapes).
    /// </summary>
    IAppBuilder Use(object middleware, params object[] args);

    /// <summary>Builds the pipeline as <paramref name="returnType"/> (usually <c>Func&lt;IDictionary&lt;string, object&gt;, Task&gt;</c>).</summary>
    object Build(Type returnType);

    /// <summary>A new builder sharing the properties and signature conversions (for branches).</summary>
    IAppBuilder New();
}
