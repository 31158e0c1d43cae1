namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Reading the upstream's response body failed (it closed early, reset, or went quiet past upstream_timeout).
/// An <see cref="IOException"/> so the core aborts the client connection without logging it again.
/// </summary>
internal sealed class UpstreamBodyException : IOException
{
    public UpstreamBodyException()
    {
    }

    public UpstreamBodyException(string message)
        : base(message)
    {
    }

    public UpstreamBodyException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
