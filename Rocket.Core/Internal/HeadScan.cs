namespace RocketOwin.Internal;

/// <summary>
/// How far <see cref="RequestParser"/> got in a head that has not all arrived, so the next call resumes there
/// instead of scanning from the start again: a 32 KB head sent one byte per packet would otherwise cost a
/// scan of everything received so far per byte. Offsets count from the start of the buffered head; whoever
/// moves that start (consuming bytes) resets the scan.
/// </summary>
internal struct HeadScan
{
    /// <summary>Where the request line starts (after skipped empty lines). Valid once <see cref="HeadersStart"/> is set.</summary>
    public int LineStart;

    /// <summary>The request line's length without its line ending.</summary>
    public int LineLength;

    /// <summary>The method's length: the target starts one byte after it.</summary>
    public int MethodLength;

    /// <summary>The request-target's length.</summary>
    public int TargetLength;

    /// <summary>The version the request line declared.</summary>
    public HttpVersion Version;

    /// <summary>Where the first field line starts; 0 while the request line has not all arrived.</summary>
    public int HeadersStart;

    /// <summary>Where the field line being scanned starts.</summary>
    public int FieldLineStart;

    /// <summary>Bytes before this offset hold no undecided line ending: the next search starts here.</summary>
    public int Scanned;
}
