namespace RocketOwin.Methods.Owin.Internal;

/// <summary>What WebApp.Start returns: disposing it stops the server.</summary>
internal sealed class RunningWebApp(global::RocketOwin.Rocket server) : IDisposable
{
    /// <summary>The server (tests read its bound ports).</summary>
    public global::RocketOwin.Rocket Server { get; } = server;

    public void Dispose() => Server.Stop();
}
