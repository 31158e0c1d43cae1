using System.Net;
using System.Security.Cryptography.X509Certificates;
using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// One client connection: a socket, or a TLS stream over it, with the addresses and facts a handler may
/// want (Rocket's Connection). Reading and writing go through <see cref="RequestContext.RequestBody"/> and
/// <see cref="Response"/>; the connection itself is the engine's.
/// </summary>
/// <remarks>
/// A connection outlives its requests: between them it waits in the connection monitor and holds no
/// buffers. It is served by at most one thread at a time.
/// </remarks>
public sealed class Connection
{
    internal Connection(ConnectionTransport transport) => Transport = transport;

    /// <summary>A number unique within the process, for logs and correlation.</summary>
    public long Id => Transport.Id;

    /// <summary>When the connection was accepted.</summary>
    public DateTimeOffset CreatedAt => Transport.CreatedAt;

    /// <summary>The client's address and port.</summary>
    public IPEndPoint RemoteEndPoint => Transport.RemoteEndPoint;

    /// <summary>The server's address and port this connection arrived on.</summary>
    public IPEndPoint LocalEndPoint => Transport.LocalEndPoint;

    /// <summary>True on an HTTPS interface.</summary>
    public bool IsSecure => Transport.IsSecure;

    /// <summary>The client's certificate when TLS client authentication supplied one; otherwise null.</summary>
    public X509Certificate2? ClientCertificate => Transport.Tls?.RemoteCertificate as X509Certificate2;

    /// <summary>The negotiated TLS protocol, or null on plain HTTP.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => Transport.Tls?.SslProtocol;

    /// <summary>The engine's side: socket, state, reads and writes.</summary>
    internal ConnectionTransport Transport { get; }
}
