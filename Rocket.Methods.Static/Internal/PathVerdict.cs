namespace RocketOwin.Methods.Static.Internal;

/// <summary>What <see cref="SafePath.Check"/> concluded about a request path.</summary>
internal enum PathVerdict
{
    /// <summary>Safe to look up under the root.</summary>
    Ok,

    /// <summary>Dot segments, NUL, backslashes, encoded slashes or not origin-form: 400.</summary>
    Invalid,

    /// <summary>A segment starts with a dot and hidden files are not served: 404.</summary>
    Hidden,
}
