using System.Runtime.InteropServices;
using System.Text;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// Maps a request path to a path under the document root, refusing every way out: the path arrives
/// decoded once (by the core), and is checked segment by segment here; symlinks are resolved afterwards
/// with realpath(3) and the result must still lie under the root.
/// </summary>
internal static class SafePath
{
    /// <summary>Checks a decoded request path without allocating (it runs on every request, cache hit or not).</summary>
    /// <param name="path">The decoded path (<see cref="RequestHead.Path"/>).</param>
    /// <param name="rawPath">The path as sent (<see cref="RequestHead.RawPath"/>), to see encoded slashes the decoded form cannot show.</param>
    /// <param name="serveHidden">Whether segments starting with a dot may be served.</param>
    public static PathVerdict Check(string path, string rawPath, bool serveHidden)
    {
        if (path.Length == 0 || path[0] != '/')
        {
            return PathVerdict.Invalid; // "*" or anything not origin-form: no file has that name
        }

        // An encoded slash or backslash would join or split segments differently from what the client
        // meant; the decoded path keeps %2F as text, so only the raw form shows it was encoded.
        if (rawPath.Contains("%2f", StringComparison.OrdinalIgnoreCase) || rawPath.Contains("%5c", StringComparison.OrdinalIgnoreCase))
        {
            return PathVerdict.Invalid;
        }

        if (path.AsSpan().IndexOfAny('\0', '\\') >= 0)
        {
            return PathVerdict.Invalid;
        }

        var hidden = false;
        foreach (var range in path.AsSpan().Split('/'))
        {
            var segment = path.AsSpan(range);
            if (segment.IsEmpty)
            {
                continue;
            }

            // RFC 3986 §5.2.4: clients resolve dot segments; one that arrives is an attempt to climb.
            if (segment is "." or "..")
            {
                return PathVerdict.Invalid;
            }

            hidden |= segment[0] == '.';
        }

        return hidden && !serveHidden ? PathVerdict.Hidden : PathVerdict.Ok;
    }

    /// <summary>The segments of a checked path joined by single slashes, no leading or trailing slash; empty for the root.</summary>
    /// <remarks>Empty segments ("//etc/passwd", "a//b") collapse, as with nginx's merge_slashes: never an absolute path.</remarks>
    public static string Relative(string path)
    {
        var builder = new StringBuilder(path.Length);
        foreach (var range in path.AsSpan().Split('/'))
        {
            if (range.End.Value > range.Start.Value)
            {
                if (builder.Length > 0)
                {
                    builder.Append('/');
                }

                builder.Append(path.AsSpan(range));
            }
        }

        return builder.ToString();
    }

    /// <summary>True when <paramref name="path"/> (resolved) is <paramref name="root"/> or lies below it; a sibling sharing its name as a prefix is not below it.</summary>
    public static bool IsUnder(string path, string root)
        => path.Length == root.Length
            ? path.Equals(root, StringComparison.Ordinal)
            : path.StartsWith(root, StringComparison.Ordinal) && (path[root.Length] == '/' || root == "/");

    /// <summary>True when any segment of <paramref name="path"/> after <paramref name="root"/> starts with a dot.</summary>
    public static bool HasHiddenSegmentBelow(string path, string root)
        => path.Length > root.Length && path.AsSpan(root.Length).Contains("/.", StringComparison.Ordinal);

    /// <summary>realpath(3): every symlink and dot segment resolved; null with the errno when that fails.</summary>
    public static string? RealPath(string path, out int errno)
    {
        errno = 0;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return ManagedRealPath(path, out errno);
        }

        var result = NativeMethods.RealPath(path, 0);
        if (result == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            NativeMethods.Free(result);
        }
    }

    private static string? ManagedRealPath(string path, out int errno)
    {
        errno = NativeMethods.ENOENT;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            return null;
        }

        errno = 0;
        var info = new FileInfo(full);
        return info.LinkTarget is null ? full : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
    }
}
