using System.Text;

namespace HelloOwin;

/// <summary>A plain OWIN 1.0 application: no Katana types, only the environment dictionary.</summary>
public static class HelloApp
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("Hello, World!");

    /// <summary>The AppFunc.</summary>
    public static Task Invoke(IDictionary<string, object> environment)
    {
        var headers = (IDictionary<string, string[]>)environment["owin.ResponseHeaders"];
        headers["Content-Type"] = ["text/plain"];
        var path = (string)environment["owin.RequestPath"];
        if (path != "/")
        {
            environment["owin.ResponseStatusCode"] = 404;
            return Task.CompletedTask;
        }

        var body = (Stream)environment["owin.ResponseBody"];
        return body.WriteAsync(Body, 0, Body.Length);
    }
}
