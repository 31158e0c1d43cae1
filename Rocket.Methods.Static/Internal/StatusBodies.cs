using System.Collections.Frozen;
using System.Text;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>The short text bodies of error responses ("404 Not Found"), encoded once.</summary>
internal static class StatusBodies
{
    public const string ContentType = "text/plain; charset=utf-8";

    private static readonly FrozenDictionary<int, (byte[] Body, string Length)> Bodies = new Dictionary<int, string>
    {
        [400] = "400 Bad Request",
        [403] = "403 Forbidden",
        [404] = "404 Not Found",
        [405] = "405 Method Not Allowed",
        [412] = "412 Precondition Failed",
        [416] = "416 Range Not Satisfiable",
        [500] = "500 Internal Server Error",
    }.ToFrozenDictionary(p => p.Key, p =>
    {
        var bytes = Encoding.ASCII.GetBytes(p.Value + "\n");
        return (bytes, bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    });

    /// <summary>Sets the status, the text body's headers and (unless HEAD) writes it.</summary>
    public static void Write(Response response, int status, bool isHead)
    {
        response.StatusCode = status;
        var (body, length) = Bodies[status];
        response.Headers.Set("Content-Type", ContentType);
        response.Headers.Set("Content-Length", length);
        if (!isHead)
        {
            response.Write(body);
        }
    }
}
