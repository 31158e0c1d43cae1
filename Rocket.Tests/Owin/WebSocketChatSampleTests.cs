using System.Net.WebSockets;
using System.Text;
using RocketOwin.Tests.Plugins;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

/// <summary>samples/Chat served from its DLL, as <c>rocket --method owin --app Chat.dll</c> serves it (appInfo["app"]).</summary>
public class WebSocketChatSampleTests
{
    private static string ChatDll => Path.Combine(DotNetCli.RepositoryRoot, "samples", "Chat", "bin", DotNetCli.Configuration, "net10.0", "Chat.dll");

    [Test]
    public async Task TwoMembersOfTheChatSampleHearEachOther()
    {
        Assert.That(File.Exists(ChatDll), Is.True, "samples/Chat is built with the tests: " + ChatDll);
        using var server = OwinTestSupport.ServeAppInfo(new AppInfo { ["app"] = ChatDll });
        Assert.That(OwinTestSupport.Get(server, "/").BodyText, Does.Contain("new WebSocket("));
        Assert.That(OwinTestSupport.Get(server, "/chat").StatusCode, Is.EqualTo(400));

        using var ann = await ConnectAsync(server.WsUri("/chat?name=Ann"));
        Assert.That(await NextText(ann), Is.EqualTo("* Ann joined (1 here)"));
        using var bob = await ConnectAsync(server.WsUri("/chat?name=Bob"));
        Assert.That(await NextText(bob), Is.EqualTo("* Bob joined (2 here)"));
        Assert.That(await NextText(ann), Is.EqualTo("* Bob joined (2 here)"));

        await SendTextAsync(bob, "hello Ann");
        Assert.That(await NextText(ann), Is.EqualTo("Bob: hello Ann"));
        Assert.That(await NextText(bob), Is.EqualTo("Bob: hello Ann"));

        await bob.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
        Assert.That(await NextText(ann), Is.EqualTo("* Bob left"));
    }

    private static async Task<string> NextText(WebSocket socket)
    {
        var (type, data) = await ReceiveMessageAsync(socket);
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Text));
        return Encoding.UTF8.GetString(data);
    }
}
