namespace Microsoft.Owin.Mapping;

/// <summary>What <see cref="MapMiddleware"/> matches and where it sends matching requests.</summary>
public class MapOptions
{
    /// <summary>The path prefix, matched whole segments at a time, ignoring case.</summary>
    public PathString PathMatch { get; set; }

    /// <summary>The branch pipeline.</summary>
    public Func<IDictionary<string, object>, Task>? Branch { get; set; }
}
