using Owin;

namespace RocketOwin.Tests.Owin;

/// <summary>
/// A Katana Startup echoing WebSocket messages, for tests that serve this assembly with the real rocket command
/// (<c>--app Rocket.Tests.dll --set startup=RocketOwin.Tests.Owin.WebSocketEchoStartup</c>); plain requests get 400.
/// </summary>
public sealed class WebSocketEchoStartup
{
    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
    {
        var echo = WebSocketTestSupport.EchoApp();
        app.Run(context => echo(context.Environment));
    }
}
