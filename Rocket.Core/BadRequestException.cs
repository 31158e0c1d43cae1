namespace RocketOwin;

/// <summary>
/// The one exception for a request the server refuses. Thrown by the parser and the body readers; a
/// <see cref="Worker"/> subclass may throw it too. The Worker base class turns it into a response with
/// <see cref="StatusCode"/> and closes the connection.
/// </summary>
public sealed class BadRequestException : Exception
{
    /// <summary>Creates the exception for <paramref name="reason"/>, with an optional detail for the log.</summary>
    public BadRequestException(RequestRejectionReason reason, string? detail = null)
        : base(detail is null ? reason.ToString() : $"{reason}: {detail}")
    {
        Reason = reason;
    }

    /// <summary>Creates the exception with a generic reason (prefer the reason constructor).</summary>
    public BadRequestException()
        : this(RequestRejectionReason.InvalidRequestLine)
    {
    }

    /// <summary>Creates the exception with a generic reason and a message (prefer the reason constructor).</summary>
    public BadRequestException(string message)
        : this(RequestRejectionReason.InvalidRequestLine, message)
    {
    }

    /// <summary>Creates the exception with a generic reason, a message and an inner exception.</summary>
    public BadRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = RequestRejectionReason.InvalidRequestLine;
    }

    /// <summary>The diagnosis.</summary>
    public RequestRejectionReason Reason { get; }

    /// <summary>The status code the response carries; the one mapping from reasons to statuses.</summary>
    public int StatusCode => Reason switch
    {
        RequestRejectionReason.UnsupportedHttpVersion => 505,
        RequestRejectionReason.RequestLineTooLong => 414,
        RequestRejectionReason.HeadersTooLarge or RequestRejectionReason.TooManyHeaders => 431,
        RequestRejectionReason.RequestBodyTooLarge => 413,
        RequestRejectionReason.RequestHeadersTimeout or RequestRejectionReason.RequestBodyTimeout => 408,
        RequestRejectionReason.UnsupportedTransferEncoding => 501,
        RequestRejectionReason.UnsupportedExpectation => 417,
        _ => 400,
    };
}
