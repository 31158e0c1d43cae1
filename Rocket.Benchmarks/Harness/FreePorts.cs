using System.Net;
using System.Net.Sockets;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>Free loopback ports: bind port 0, read the port back, release it.</summary>
internal static class FreePorts
{
    /// <summary>Returns <paramref name="count"/> distinct ports (all held until all are read).</summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}
