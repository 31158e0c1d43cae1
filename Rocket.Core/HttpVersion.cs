namespace RocketOwin;

/// <summary>The HTTP versions the server speaks.</summary>
public enum HttpVersion
{
    /// <summary>HTTP/1.0: connections close after each response unless the client asks for keep-alive.</summary>
    Http10,

    /// <summary>HTTP/1.1: persistent connections, chunked transfer coding, Host required.</summary>
    Http11,
}
