using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>OWIN <c>host.Addresses</c> entries: dictionaries of scheme, host, port and path, as Katana's hosts fill them.</summary>
internal static class HostAddresses
{
    /// <summary>One entry.</summary>
    public static IDictionary<string, object> Entry(string scheme, string host, int port, string path) =>
        new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["scheme"] = scheme,
            ["host"] = host,
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["path"] = path,
        };

    /// <summary>One entry per interface listened on; a wildcard address is "*", an IPv6 one is bracketed.</summary>
    public static IList<IDictionary<string, object>> Of(IReadOnlyList<ListenInterface> interfaces, string pathBase)
    {
        var addresses = new List<IDictionary<string, object>>(interfaces.Count);
        foreach (var i in interfaces)
        {
            var host = i.IPAddress.Equals(IPAddress.Any) || i.IPAddress.Equals(IPAddress.IPv6Any) ? "*"
                : i.IPAddress.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{i.IPAddress}]"
                : i.Address;
            addresses.Add(Entry(i.IsSecure ? "https" : "http", host, i.Port, pathBase));
        }

        return addresses;
    }
}
