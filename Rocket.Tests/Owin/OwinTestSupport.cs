using Owin;
using RocketOwin.Methods.Owin;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;

/// <summary>Starts the owin method on a test server and sends simple requests.</summary>
internal static class OwinTestSupport
{
    public static TestServer Serve(AppFunc app, int minThreads = 4, int maxThreads = 0)
        => new(() => new OwinWorker(), new AppInfo { ["owin_app"] = app }, minThreads, maxThreads);

    public static TestServer Serve(Action<IAppBuilder> startup)
        => new(() => new OwinWorker(), new AppInfo { ["startup"] = startup });

    public static TestServer ServeAppInfo(AppInfo appInfo) => new(() => new OwinWorker(), appInfo);

    public static RawResponse Get(TestServer server, string target, string extraHeaders = "")
    {
        using var client = server.Connect();
        client.Send($"GET {target} HTTP/1.1\r\nHost: test\r\n{extraHeaders}Connection: close\r\n\r\n");
        return client.ReadResponse();
    }

    public static RawResponse Post(TestServer server, string target, string contentType, string body)
    {
        using var client = server.Connect();
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        client.Send($"POST {target} HTTP/1.1\r\nHost: test\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
        client.Send(bytes);
        return client.ReadResponse();
    }

    public static Task Text(IDictionary<string, object> env, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return ((Stream)env["owin.ResponseBody"]).WriteAsync(bytes, 0, bytes.Length);
    }
}
