namespace RocketOwin.Methods.Static.Internal;

/// <summary>What a path names, from the file type bits of its mode.</summary>
internal enum FileKind
{
    /// <summary>Nothing there (or a path component is not a directory).</summary>
    Missing,

    /// <summary>A regular file: servable.</summary>
    Regular,

    /// <summary>A directory: index file, listing or 403.</summary>
    Directory,

    /// <summary>A FIFO, socket or device: never opened (a FIFO would block the open), answered 403.</summary>
    Special,

    /// <summary>The server may not look (EACCES on a component).</summary>
    Forbidden,
}
