using System.Text;

namespace RocketOwin.Internal;

/// <summary>The Date header line (RFC 9110 §6.6.1, IMF-fixdate), formatted once a second and shared by every response.</summary>
internal static class DateHeader
{
    private static byte[] _line = Format(DateTimeOffset.UtcNow);

    /// <summary><c>Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n</c> as bytes.</summary>
    public static ReadOnlySpan<byte> Line => Volatile.Read(ref _line);

    public static void Refresh() => Volatile.Write(ref _line, Format(DateTimeOffset.UtcNow));

    private static byte[] Format(DateTimeOffset now) => Encoding.ASCII.GetBytes("Date: " + now.ToString("r", System.Globalization.CultureInfo.InvariantCulture) + "\r\n");
}
