using System.Text;
using RocketOwin.Methods.Static;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Static;

/// <summary>
/// A temporary tree for the static method: BASE/www is the document root; BASE/secret.txt and
/// BASE/www-secret/secret.txt are sentinels outside it that no request may ever reach.
/// </summary>
public sealed class StaticSite : IDisposable
{
    public const string OutsideSentinel = "SENTINEL-OUTSIDE-ROOT";
    public const string SiblingSentinel = "SENTINEL-SIBLING-DIR";

    private TestServer? _server;

    public StaticSite()
    {
        Base = Path.Combine(Path.GetTempPath(), "rocket-static-" + Guid.NewGuid().ToString("N")[..12]);
        Root = Path.Combine(Base, "www");
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Base, "secret.txt"), OutsideSentinel);
        Directory.CreateDirectory(Path.Combine(Base, "www-secret"));
        File.WriteAllText(Path.Combine(Base, "www-secret", "secret.txt"), SiblingSentinel);
    }

    public string Base { get; }

    public string Root { get; }

    public TestServer Server => _server ?? throw new InvalidOperationException("Call Start first.");

    /// <summary>Writes a file under the root (parents created) and returns its full path.</summary>
    public string Write(string relative, string content) => Write(relative, Encoding.UTF8.GetBytes(content));

    public string Write(string relative, byte[] content)
    {
        var full = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return full;
    }

    /// <summary>Starts a server with the static worker; document_root is set unless given.</summary>
    public StaticSite Start(params (string Key, object Value)[] settings)
    {
        var appInfo = new AppInfo { ["document_root"] = Root };
        foreach (var (key, value) in settings)
        {
            appInfo[key] = value;
        }

        _server = new TestServer(new StaticWorker(), appInfo);
        return this;
    }

    /// <summary>Sends one request (GET by default) with the exact target and extra header lines, and reads the response.</summary>
    public RawResponse Request(string target, string method = "GET", params string[] headers)
    {
        using var client = Server.Connect();
        client.Send(RequestText(target, method, headers));
        return client.ReadResponse(headRequest: method == "HEAD");
    }

    public static string RequestText(string target, string method = "GET", params string[] headers)
    {
        var text = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: test\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        return text.Append("Connection: close\r\n\r\n").ToString();
    }

    public void Dispose()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(Base, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
