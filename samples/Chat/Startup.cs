using Microsoft.Owin;
using Owin;

[assembly: OwinStartup(typeof(Chat.Startup))]

namespace Chat;

using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;

/// <summary>A chat room the way a Katana app wrote one: a page, and a WebSocket endpoint through the OWIN WebSocket extension.</summary>
public class Startup
{
    /// <summary>Builds the pipeline: <c>/chat?name=Ann</c> is the WebSocket endpoint, everything else the page.</summary>
    public void Configuration(IAppBuilder app)
    {
        var room = new ChatRoom();
        app.Map("/chat", chat => chat.Run(context =>
        {
            var accept = context.Get<WebSocketAccept>("websocket.Accept");
            if (accept is null)
            {
                context.Response.StatusCode = 400;
                return context.Response.WriteAsync("Connect to /chat with a WebSocket.");
            }

            var name = context.Request.Query["name"] is { Length: > 0 } given ? given : "guest";
            accept(null!, socket => room.JoinAsync(socket, name));
            return Task.CompletedTask;
        }));

        app.Run(context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(Page.Html);
        });
    }
}
