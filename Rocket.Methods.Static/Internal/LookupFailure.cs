namespace RocketOwin.Methods.Static.Internal;

/// <summary>Why a request path has no servable entry; each maps to one status and one log level in the worker.</summary>
internal enum LookupFailure
{
    /// <summary>Found.</summary>
    None,

    /// <summary>Nothing there: 404, logged at Debug.</summary>
    NotFound,

    /// <summary>The server may not read it (permissions): 403, logged at Info.</summary>
    Forbidden,

    /// <summary>A FIFO, socket or device: 403, logged at Info.</summary>
    NotRegular,

    /// <summary>A symlink whose target is outside the root: 404 (the client learns nothing), logged at Warn.</summary>
    OutsideRoot,

    /// <summary>An I/O error reading it: 500, logged at Error.</summary>
    Unreadable,
}
