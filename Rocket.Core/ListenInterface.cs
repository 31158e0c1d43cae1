using System.Net;

namespace RocketOwin;

/// <summary>
/// One address and port Rocket listens on, as in Rocket's <c>('127.0.0.1', 80)</c> or
/// <c>('0.0.0.0', 443, 'server_key.pem', 'server_cert.pem')</c>. Giving a key file and a certificate
/// file (both PEM) makes the interface HTTPS.
/// </summary>
/// <remarks>Immutable; safe to share between servers.</remarks>
public sealed record ListenInterface
{
    // getsockopt(SOL_SOCKET, SO_ACCEPTCONN) on Linux: is the socket listening (socket(7)).
    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;

    /// <summary>Creates a plain HTTP interface.</summary>
    /// <param name="address">An IPv4 or IPv6 literal, <c>0.0.0.0</c> or <c>::</c> for every address, or <c>localhost</c>.</param>
    /// <param name="port">0 to 65535; 0 lets the operating system choose (read it back from <see cref="Rocket.BoundEndPoints"/>).</param>
    public ListenInterface(string address, int port)
        : this(address, port, null, null)
    {
    }

    /// <summary>Creates an interface; with <paramref name="keyFile"/> and <paramref name="certificateFile"/> it serves HTTPS.</summary>
    /// <param name="address">An IPv4 or IPv6 literal, <c>0.0.0.0</c> or <c>::</c> for every address, or <c>localhost</c>.</param>
    /// <param name="port">0 to 65535.</param>
    /// <param name="keyFile">PEM private key file, or null for plain HTTP.</param>
    /// <param name="certificateFile">PEM certificate file (chain allowed), or null for plain HTTP.</param>
    /// <exception cref="ArgumentException">The address is not an IP literal, the port is out of range, or only one of the two files is given.</exception>
    public ListenInterface(string address, int port, string? keyFile, string? certificateFile)
    {
        ArgumentNullException.ThrowIfNull(address);
        IPAddress ip;
        if (string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            ip = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(address.Trim('[', ']'), out ip!))
        {
            throw new ArgumentException($"interfaces: address '{address}' is not an IPv4 or IPv6 address (use 0.0.0.0 or :: for every address).", nameof(address));
        }

        if (port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"interfaces: port {port} for {address} is outside 0..65535.");
        }

        if ((keyFile is null) != (certificateFile is null))
        {
            throw new ArgumentException(
                $"interfaces: {address}:{port} has a key file '{keyFile}' and a certificate file '{certificateFile}'; HTTPS needs both (or neither for plain HTTP).",
                keyFile is null ? nameof(keyFile) : nameof(certificateFile));
        }

        Address = address;
        Port = port;
        IPAddress = ip;
        KeyFile = keyFile;
        CertificateFile = certificateFile;
    }

    /// <summary>The address as given.</summary>
    public string Address { get; }

    /// <summary>The port as given (0 = chosen by the OS at Start).</summary>
    public int Port { get; }

    /// <summary>The parsed address.</summary>
    public IPAddress IPAddress { get; }

    /// <summary>PEM private key file for HTTPS, or null.</summary>
    public string? KeyFile { get; }

    /// <summary>PEM certificate file for HTTPS, or null.</summary>
    public string? CertificateFile { get; }

    /// <summary>
    /// A socket that is already listening (inherited through systemd's socket activation, <c>LISTEN_FDS</c>), used
    /// instead of binding; null when Rocket binds the address itself.
    /// </summary>
    /// <remarks>Stop closes Rocket's handle without shutting the socket down, so the process that passed it keeps it listening.</remarks>
    public System.Net.Sockets.Socket? ListeningSocket { get; private init; }

    /// <summary>An interface on a socket that is already listening (see <see cref="ListeningSocket"/>); HTTPS with both files.</summary>
    /// <exception cref="ArgumentException">The socket is not a listening TCP socket.</exception>
    public static ListenInterface FromListeningSocket(System.Net.Sockets.Socket socket, string? keyFile = null, string? certificateFile = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        string? problem;
        try
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            var acceptsConnections = !OperatingSystem.IsLinux()
                || (socket.GetRawSocketOption(SolSocket, SoAcceptConn, value) == sizeof(int) && BitConverter.ToInt32(value) != 0);
            acceptsConnections &= socket.LocalEndPoint is IPEndPoint;
            problem = acceptsConnections && socket.ProtocolType == System.Net.Sockets.ProtocolType.Tcp ? null
                : $"type {socket.SocketType}, protocol {socket.ProtocolType}, local end point {socket.LocalEndPoint?.ToString() ?? "none"}";
        }
        catch (System.Net.Sockets.SocketException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            throw new ArgumentException($"interfaces: the inherited socket {socket.Handle} is not a listening TCP socket ({problem}).", nameof(socket));
        }

        var local = (IPEndPoint)socket.LocalEndPoint!;
        var address = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
        return new ListenInterface(address.ToString(), local.Port, keyFile, certificateFile) { ListeningSocket = socket };
    }

    /// <summary>True when this interface serves HTTPS.</summary>
    public bool IsSecure => KeyFile is not null;

    /// <summary>Rocket's tuple form: <c>("127.0.0.1", 8080)</c>.</summary>
    public static implicit operator ListenInterface((string Address, int Port) tuple) => new(tuple.Address, tuple.Port);

    /// <summary>Rocket's tuple form with TLS files: <c>("0.0.0.0", 443, "key.pem", "cert.pem")</c>.</summary>
    public static implicit operator ListenInterface((string Address, int Port, string KeyFile, string CertificateFile) tuple)
        => new(tuple.Address, tuple.Port, tuple.KeyFile, tuple.CertificateFile);

    /// <summary>Parses <c>ADDRESS:PORT</c>, <c>[IPv6]:PORT</c>, optionally followed by <c>,KEY.pem,CERT.pem</c>.</summary>
    /// <exception cref="FormatException">The text names the problem and the value.</exception>
    public static ListenInterface Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',');
        if (parts.Length is not (1 or 3))
        {
            throw new FormatException($"bind '{text}': expected ADDRESS:PORT or ADDRESS:PORT,KEY.pem,CERT.pem.");
        }

        var hostPort = parts[0].Trim();
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), out var port))
        {
            throw new FormatException($"bind '{text}': expected ADDRESS:PORT (for IPv6: [::1]:8080).");
        }

        try
        {
            return parts.Length == 1
                ? new ListenInterface(hostPort[..colon], port)
                : new ListenInterface(hostPort[..colon], port, parts[1].Trim(), parts[2].Trim());
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"bind '{text}': {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override string ToString()
        => (IPAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{IPAddress}]:{Port}" : $"{IPAddress}:{Port}")
           + (IsSecure ? " (https)" : string.Empty);
}
