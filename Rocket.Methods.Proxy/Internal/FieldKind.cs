namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>What the proxy does with a response field, decided once per name string (cached with it in <see cref="HeaderStringCache"/>).</summary>
internal enum FieldKind
{
    /// <summary>Passed on as it came.</summary>
    Plain,

    /// <summary>RFC 9110 §7.6.1: never crosses the proxy.</summary>
    HopByHop,

    /// <summary>Hop-by-hop, but kept (with Connection: Upgrade) on a 101.</summary>
    Upgrade,

    /// <summary>Combined with the proxy's own hop when <c>via</c> is set.</summary>
    Via,

    /// <summary>Set (not added) so the core frames the body by it.</summary>
    ContentLength,
}
