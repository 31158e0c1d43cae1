using System.Globalization;
using System.IO.Enumeration;
using System.Text;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// The HTML page for a directory without an index file (<c>display_index</c>): a parent link, then
/// subdirectories and files sorted by name, each with size and modification time. Every name is
/// HTML-escaped for the text and percent-encoded for the link, so a file called
/// <c>&lt;script&gt;</c> or <c>a"b</c> is shown, never run.
/// </summary>
internal static class DirectoryListing
{
    /// <summary>Renders the listing of <paramref name="directory"/>, requested as <paramref name="requestPath"/> (decoded, ends with '/').</summary>
    public static byte[] Render(string directory, string requestPath, string root, StaticOptions options)
    {
        var entries = new List<(string Name, FileStat Stat)>();
        var found = new FileSystemEnumerable<(string Full, bool IsLink)>(
            directory,
            (ref FileSystemEntry e) => (e.ToFullPath(), (e.Attributes & FileAttributes.ReparsePoint) != 0),
            new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0 });
        foreach (var (full, isLink) in found)
        {
            var name = Path.GetFileName(full);
            if (name.StartsWith('.') && !options.ServeHidden)
            {
                continue;
            }

            // List only what a click on the link would serve: not FIFOs, not links leading out of the root.
            var stat = FileStat.Of(full);
            if (stat.Kind is not (FileKind.Regular or FileKind.Directory))
            {
                continue;
            }

            // Only a symlink can lead elsewhere (the directory itself is already resolved): realpath for those alone.
            if (isLink && !options.FollowSymlinksOutsideRoot && (SafePath.RealPath(full, out _) is not { } real || !SafePath.IsUnder(real, root)))
            {
                continue;
            }

            entries.Add((name, stat));
        }

        entries.Sort((a, b) =>
        {
            var byKind = (b.Stat.Kind == FileKind.Directory).CompareTo(a.Stat.Kind == FileKind.Directory);
            return byKind != 0 ? byKind : string.CompareOrdinal(a.Name, b.Name);
        });

        var title = Escape(requestPath);
        var html = new StringBuilder(512 + entries.Count * 160);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Index of ").Append(title)
            .Append("</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}")
            .Append("th,td{padding:.2em 1.2em .2em 0;text-align:left}td.size{text-align:right}</style>\n</head>\n<body>\n<h1>Index of ")
            .Append(title).Append("</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr>\n");
        if (requestPath != "/")
        {
            html.Append("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
        }

        foreach (var (name, stat) in entries)
        {
            var isDirectory = stat.Kind == FileKind.Directory;
            var suffix = isDirectory ? "/" : string.Empty;
            html.Append("<tr><td><a href=\"./").Append(Uri.EscapeDataString(name)).Append(suffix).Append("\">")
                .Append(Escape(name)).Append(suffix).Append("</a></td><td class=\"size\">")
                .Append(isDirectory ? "-" : stat.Length.ToString(CultureInfo.InvariantCulture)).Append("</td><td>")
                .Append(stat.LastModified.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        html.Append("</table>\n</body>\n</html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    /// <summary>Escapes the five characters that matter in HTML text and attributes; other characters stay readable.</summary>
    private static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            });
            if (c is not ('&' or '<' or '>' or '"' or '\''))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
