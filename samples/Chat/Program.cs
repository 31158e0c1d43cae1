using Microsoft.Owin.Hosting;

namespace Chat;

/// <summary>Self-host, as with Microsoft.Owin.Hosting: <c>dotnet run -- http://localhost:8080/</c>, then Ctrl-C.</summary>
public static class Program
{
    /// <summary>Starts the Startup with WebApp.Start and waits for Ctrl-C.</summary>
    public static void Main(string[] args)
    {
        var url = args.Length > 0 ? args[0] : "http://localhost:8080/";
        using var stop = new ManualResetEventSlim();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Set();
        };
        using (WebApp.Start<Startup>(url))
        {
            Console.WriteLine($"Chat listening on {url} (Ctrl-C to stop)");
            stop.Wait();
        }
    }
}
