using Microsoft.Owin;
using Microsoft.Owin.Infrastructure;

namespace RocketOwin.Tests.Owin.Katana;

/// <summary>Microsoft.Owin's headers, query, form and cookie helpers behave as Katana's OwinHelpers documented them.</summary>
public class KatanaHeaderFormCookieTests
{
    private static HeaderDictionary Headers(params (string Name, string[] Values)[] entries)
    {
        var store = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in entries)
        {
            store[name] = values;
        }

        return new HeaderDictionary(store);
    }

    [Test]
    public void GetCommaSeparatedValuesSplitsAcrossValuesAndRemovesQuotes()
    {
        var headers = Headers(("X-List", ["a, \"b, c\"", " \"d\" ,e,,"]));

        Assert.That(headers.GetCommaSeparatedValues("X-List"), Is.EqualTo(new[] { "a", "b, c", "d", "e" }));
        Assert.That(headers.GetCommaSeparatedValues("Missing"), Is.Null);
    }

    [Test]
    public void AppendOfNullOrWhitespaceLeavesTheHeaderAlone()
    {
        var headers = Headers(("X-A", ["1"]));

        headers.Append("X-A", null);
        headers.Append("X-A", " ");
        headers.Append("X-B", null);

        Assert.That(headers.GetValues("X-A"), Is.EqualTo(new[] { "1" }));
        Assert.That(headers.ContainsKey("X-B"), Is.False);
    }

    [Test]
    public void SetValuesWithNullOrNothingRemovesTheHeader()
    {
        var headers = Headers(("X-A", ["1"]), ("X-B", ["2"]), ("X-C", ["3"]));

        headers.SetValues("X-A", null);
        headers.SetValues("X-B");
        headers.SetCommaSeparatedValues("X-C", null);

        Assert.That(headers.Keys, Is.Empty);
        Assert.Throws<ArgumentNullException>(() => headers.SetValues(" ", "x"));
    }

    [Test]
    public void AppendCommaSeparatedValuesQuotesItemsWithCommasAndAppendsToTheJoinedValue()
    {
        var headers = Headers(("X-A", ["1", "2"]));

        headers.AppendCommaSeparatedValues("X-A", "three, four", "\"five, six\"");
        headers.AppendValues("X-A", null);

        Assert.That(headers.GetValues("X-A"), Is.EqualTo(new[] { "1,2,\"three, four\",\"five, six\"" }));
        Assert.That(headers.GetCommaSeparatedValues("X-A"), Is.EqualTo(new[] { "1", "2", "three, four", "five, six" }));
    }

    [Test]
    public void AQueryPairWithoutEqualsIsDroppedAndBothSeparatorsCount()
    {
        var query = Parse("?flag&a=1;b=2&a=3& c=x+y%21&=empty-name&d=e=f");

        Assert.That(query.GetValues("flag"), Is.Null);
        Assert.That(query.GetValues("a"), Is.EqualTo(new[] { "1", "3" }));
        Assert.That(query["b"], Is.EqualTo("2"));
        Assert.That(query["c"], Is.EqualTo("x y!"), "leading whitespace of a name is skipped, '+' is a space");
        Assert.That(query[""], Is.EqualTo("empty-name"));
        Assert.That(query["d"], Is.EqualTo("e=f"));
    }

    [Test]
    public void AFormPairWithoutEqualsIsDroppedAndOnlyAmpersandSeparates()
    {
        var form = Microsoft.Owin.FormParser.ParseForm("name=J%C3%B6rg+B&novalue&x=1;y=2");

        Assert.That(form.Keys, Is.EquivalentTo(new[] { "name", "x" }));
        Assert.That(form["name"], Is.EqualTo(new[] { "Jörg B" }));
        Assert.That(form["x"], Is.EqualTo(new[] { "1;y=2" }));
    }

    [Test]
    public void ANullValueArrayReadsAsAbsentRatherThanThrowing()
    {
        var store = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["a"] = null! };
        var collection = new ReadableStringCollection(store);
        var form = new FormCollection(store);
        var headers = new HeaderDictionary(store);

        Assert.Multiple(() =>
        {
            Assert.That(collection.Get("a"), Is.Null);
            Assert.That(collection["a"], Is.Null);
            Assert.That(collection.GetValues("a"), Is.Null);
            Assert.That(form.Get("a"), Is.Null);
            Assert.That(headers.Get("a"), Is.Null);
            Assert.That(headers.GetCommaSeparatedValues("a"), Is.Null);
        });
    }

    [Test]
    public void CookieValuesAreDecodedButNamesAreNot()
    {
        var cookies = RequestCookies("a%20b=c%20d; e=f+g");

        Assert.That(cookies["a%20b"], Is.EqualTo("c d"));
        Assert.That(cookies["a b"], Is.Null);
        Assert.That(cookies["e"], Is.EqualTo("f+g"), "'+' is not a space in a cookie");
    }

    [Test]
    public void ACommaIsPartOfACookieValueAndABareNameIsNoCookie()
    {
        var cookies = RequestCookies("list=1,2,3; bare; x=y; x=second");

        Assert.That(cookies["list"], Is.EqualTo("1,2,3"));
        Assert.That(cookies["bare"], Is.Null);
        Assert.That(cookies.Keys, Is.EquivalentTo(new[] { "list", "x" }));
        Assert.That(cookies["x"], Is.EqualTo("y"), "the first of a repeated name wins");
    }

    [Test]
    public void RequestCookiesFollowTheCookieHeaderWhenItChanges()
    {
        var context = new OwinContext();
        context.Request.Headers["Cookie"] = "a=1";
        Assert.That(context.Request.Cookies["a"], Is.EqualTo("1"));

        context.Request.Headers["Cookie"] = "a=2";

        Assert.That(context.Request.Cookies["a"], Is.EqualTo("2"));
    }

    [Test]
    public void CookieManagerReadsRequestCookiesAndWritesSetCookie()
    {
        var context = new OwinContext();
        context.Request.Headers["Cookie"] = "session=abc";
        var manager = new CookieManager();

        manager.AppendResponseCookie(context, "id", "a b", new CookieOptions { Path = "/app", HttpOnly = true });
        manager.DeleteCookie(context, "old", new CookieOptions());

        Assert.That(manager.GetRequestCookie(context, "session"), Is.EqualTo("abc"));
        var setCookies = context.Response.Headers.GetValues("Set-Cookie")!;
        Assert.That(setCookies[0], Is.EqualTo("id=a%20b; path=/app; HttpOnly"));
        Assert.That(setCookies[1], Does.StartWith("old=; path=/; expires=Thu, 01-Jan-1970 00:00:00 GMT"));
    }

    [Test]
    public void ChunkingCookieManagerSplitsALargeCookieAndJoinsItBack()
    {
        var value = new string('v', 100);
        var response = new OwinContext();
        var manager = new ChunkingCookieManager { ChunkSize = 40 };

        manager.AppendResponseCookie(response, "big", value, new CookieOptions());

        var setCookies = response.Response.Headers.GetValues("Set-Cookie")!;
        Assert.That(setCookies[0], Is.EqualTo("big=chunks:4; path=/"));
        Assert.That(setCookies.Skip(1).Select(c => c[..c.IndexOf('=')]), Is.EqualTo(new[] { "bigC1", "bigC2", "bigC3", "bigC4" }));
        Assert.That(setCookies.All(c => c.Length <= 40), Is.True);

        var request = new OwinContext();
        request.Request.Headers["Cookie"] = string.Join("; ", setCookies.Select(c => c[..c.IndexOf(';')]));
        Assert.That(manager.GetRequestCookie(request, "big"), Is.EqualTo(value));
    }

    [Test]
    public void ChunkingCookieManagerLeavesASmallCookieWholeAndKeepsQuotes()
    {
        var context = new OwinContext();
        var manager = new ChunkingCookieManager();

        manager.AppendResponseCookie(context, "small", "\"quoted\"", new CookieOptions { Secure = true });

        Assert.That(context.Response.Headers.GetValues("Set-Cookie"), Is.EqualTo(new[] { "small=\"quoted\"; path=/; secure" }));
    }

    [Test]
    public void ChunkingCookieManagerThrowsForAMissingChunkUnlessToldNotTo()
    {
        var context = new OwinContext();
        context.Request.Headers["Cookie"] = "big=chunks:2; bigC1=abc";
        var manager = new ChunkingCookieManager();

        Assert.Throws<FormatException>(() => manager.GetRequestCookie(context, "big"));
        manager.ThrowForPartialCookies = false;
        Assert.That(manager.GetRequestCookie(context, "big"), Is.EqualTo("chunks:2"));
    }

    [Test]
    public void ChunkingCookieManagerDeletesEveryChunk()
    {
        var context = new OwinContext();
        context.Request.Headers["Cookie"] = "big=chunks:2; bigC1=abc; bigC2=def";
        var manager = new ChunkingCookieManager();

        manager.DeleteCookie(context, "big", new CookieOptions());

        var names = context.Response.Headers.GetValues("Set-Cookie")!.Select(c => c[..c.IndexOf('=')]);
        Assert.That(names, Is.EqualTo(new[] { "big", "bigC1", "bigC2" }));
        Assert.That(context.Response.Headers.GetValues("Set-Cookie")!.All(c => c.Contains("expires=Thu, 01-Jan-1970", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void ChunkingCookieManagerRefusesAChunkSizeWithNoRoomForData()
    {
        var manager = new ChunkingCookieManager { ChunkSize = 12 };

        Assert.Throws<InvalidOperationException>(() => manager.AppendResponseCookie(new OwinContext(), "name", new string('x', 50), new CookieOptions()));
    }

    [Test]
    public void TheBuilderCarriesDefaultCookieManagers()
    {
        var app = new Microsoft.Owin.Builder.AppBuilder();
        Assert.That(app.GetDefaultCookieManager(), Is.TypeOf<CookieManager>());
        Assert.That(app.GetDefaultChunkingCookieManager(), Is.TypeOf<ChunkingCookieManager>());

        var mine = new ChunkingCookieManager { ChunkSize = 100 };
        app.SetDefaultCookieManager(mine);
        app.SetDefaultChunkingCookieManager(mine);
        Assert.That(app.GetDefaultCookieManager(), Is.SameAs(mine));
        Assert.That(app.Properties["infrastructure.ChunkingCookieManager"], Is.SameAs(mine));

        app.SetDefaultCookieManager(null);
        Assert.That(app.GetDefaultCookieManager(), Is.TypeOf<CookieManager>());
    }

    private static IReadableStringCollection Parse(string uriQuery)
    {
        var context = new OwinContext();
        context.Request.QueryString = QueryString.FromUriComponent(uriQuery);
        return context.Request.Query;
    }

    private static RequestCookieCollection RequestCookies(string header)
    {
        var context = new OwinContext();
        context.Request.Headers["Cookie"] = header;
        return context.Request.Cookies;
    }
}
