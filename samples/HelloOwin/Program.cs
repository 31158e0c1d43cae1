using Microsoft.Owin.Hosting;
using Owin;

namespace HelloOwin;

/// <summary>Self-host: <c>dotnet run -- http://localhost:8080/</c>, then Ctrl-C.</summary>
public static class Program
{
    /// <summary>Starts the AppFunc with WebApp.Start and waits for Ctrl-C.</summary>
    public static void Main(string[] args)
    {
        var url = args.Length > 0 ? args[0] : "http://localhost:8080/";
        using var stop = new ManualResetEventSlim();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Set();
        };
        using (WebApp.Start(url, app => app.Use(new Func<Func<IDictionary<string, object>, Task>, Func<IDictionary<string, object>, Task>>(_ => HelloApp.Invoke))))
        {
            Console.WriteLine($"HelloOwin listening on {url} (Ctrl-C to stop)");
            stop.Wait();
        }
    }
}
