using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

public class SmokeTests
{
    [Test]
    public void ServerAnswersAPlainGetWithContentLength()
    {
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("13"));
        Assert.That(response.Header("Server"), Is.EqualTo("Rocket.Owin"));
        Assert.That(response.Header("Date"), Does.EndWith("GMT"));
        Assert.That(response.BodyText, Is.EqualTo("Hello, World!"));
    }
}
