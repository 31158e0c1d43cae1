namespace RocketOwin.Host;

/// <summary>A problem the user can fix (a bad flag, value or file); printed as one line, never with a stack trace.</summary>
internal sealed class HostException : Exception
{
    public HostException()
    {
    }

    public HostException(string message)
        : base(message)
    {
    }

    public HostException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
