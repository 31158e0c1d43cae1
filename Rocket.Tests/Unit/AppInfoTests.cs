namespace RocketOwin.Tests.Unit;

public class AppInfoTests
{
    private static AppInfo Info(string key, object? value) => new() { [key] = value };

    [Test]
    public void KeysIgnoreCase()
    {
        var info = Info("Document_Root", "/srv");
        Assert.That(info.GetString("document_root"), Is.EqualTo("/srv"));
        Assert.That(info.ContainsKey("DOCUMENT_ROOT"), Is.True);
    }

    [Test]
    public void GettersReturnTheDefaultWhenTheKeyIsMissingOrNull()
    {
        var info = Info("nothing", null);
        Assert.That(info.GetString("missing", "d"), Is.EqualTo("d"));
        Assert.That(info.GetString("nothing", "d"), Is.EqualTo("d"));
        Assert.That(info.GetBoolean("missing", true), Is.True);
        Assert.That(info.GetInt64("nothing", 7), Is.EqualTo(7));
        Assert.That(info.GetDuration("missing", TimeSpan.FromSeconds(3)), Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(info.GetList("missing", ["a"]), Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void GetStringConvertsWithTheInvariantCulture()
        => Assert.That(Info("k", 1.5).GetString("k"), Is.EqualTo("1.5"));

    [TestCase("true", true)]
    [TestCase("YES", true)]
    [TestCase(" on ", true)]
    [TestCase("1", true)]
    [TestCase("False", false)]
    [TestCase("no", false)]
    [TestCase("OFF", false)]
    [TestCase("0", false)]
    public void GetBooleanReadsTheUsualSpellings(string text, bool expected)
    {
        Assert.That(Info("k", text).GetBoolean("k", !expected), Is.EqualTo(expected));
        Assert.That(Info("k", expected).GetBoolean("k", !expected), Is.EqualTo(expected));
    }

    [Test]
    public void GetBooleanNamesTheKeyAndTheValueWhenItIsNotABoolean()
    {
        var e = Assert.Throws<ArgumentException>(() => Info("directory_listing", "maybe").GetBoolean("directory_listing", false))!;
        Assert.That(e.Message, Does.Contain("directory_listing").And.Contain("\"maybe\"").And.Contain("boolean"));
        Assert.That(e.ParamName, Is.EqualTo("directory_listing"));
    }

    [Test]
    public void GetInt64ReadsStringsAndNumbersWithinRange()
    {
        Assert.That(Info("k", " 42 ").GetInt64("k", 0), Is.EqualTo(42));
        Assert.That(Info("k", 42).GetInt64("k", 0), Is.EqualTo(42));
        Assert.That(Info("k", "-5").GetInt64("k", 0, min: -10, max: 10), Is.EqualTo(-5));
    }

    [Test]
    public void GetInt64NamesTheKeyAndTheValueWhenItIsNotAnIntegerOrOutOfRange()
    {
        var e = Assert.Throws<ArgumentException>(() => Info("max_age", "ten").GetInt64("max_age", 0))!;
        Assert.That(e.Message, Does.Contain("max_age").And.Contain("\"ten\"").And.Contain("integer"));

        e = Assert.Throws<ArgumentException>(() => Info("max_age", "99999999999999999999").GetInt64("max_age", 0))!;
        Assert.That(e.Message, Does.Contain("max_age").And.Contain("99999999999999999999"));

        e = Assert.Throws<ArgumentException>(() => Info("max_age", 11).GetInt64("max_age", 0, min: 0, max: 10))!;
        Assert.That(e.Message, Does.Contain("max_age").And.Contain("11").And.Contain("from 0 to 10"));
    }

    [Test]
    public void GetDurationReadsTimeSpansAndSeconds()
    {
        Assert.That(Info("k", "1.5").GetDuration("k", TimeSpan.Zero), Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        Assert.That(Info("k", 2).GetDuration("k", TimeSpan.Zero), Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(Info("k", TimeSpan.FromMinutes(1)).GetDuration("k", TimeSpan.Zero), Is.EqualTo(TimeSpan.FromMinutes(1)));
    }

    [TestCase("soon")]
    [TestCase("-1")]
    [TestCase("NaN")]
    [TestCase("Infinity")]
    public void GetDurationNamesTheKeyAndTheValueWhenItIsNotADuration(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => Info("timeout", text).GetDuration("timeout", TimeSpan.Zero))!;
        Assert.That(e.Message, Does.Contain("timeout").And.Contain($"\"{text}\""));
    }

    [Test]
    public void GetDurationRejectsANegativeTimeSpan()
    {
        var e = Assert.Throws<ArgumentException>(() => Info("timeout", TimeSpan.FromSeconds(-1)).GetDuration("timeout", TimeSpan.Zero))!;
        Assert.That(e.Message, Does.Contain("timeout").And.Contain("non-negative"));
    }

    [Test]
    public void GetListSplitsStringsAndReadsEnumerables()
    {
        Assert.That(Info("k", "a, b,,c ,").GetList("k", []), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(Info("k", new[] { " x ", "", "y" }).GetList("k", []), Is.EqualTo(new[] { "x", "y" }));
        Assert.That(Info("k", new List<object> { 1, "two" }).GetList("k", []), Is.EqualTo(new[] { "1", "two" }));
    }

    [Test]
    public void GetListNamesTheKeyAndTheValueWhenItIsNotAList()
    {
        var e = Assert.Throws<ArgumentException>(() => Info("index_files", 5).GetList("index_files", []))!;
        Assert.That(e.Message, Does.Contain("index_files").And.Contain("5").And.Contain("list"));
    }

    [Test]
    public void InvalidBuildsAMessageWithKeyValueAndExpectation()
    {
        var e = AppInfo.Invalid("upstream", "ftp://x", "an http:// URL");
        Assert.That(e.Message, Does.StartWith("appInfo[\"upstream\"] = \"ftp://x\" is not valid: expected an http:// URL."));
        Assert.That(e.ParamName, Is.EqualTo("upstream"));
    }

    [Test]
    public void CopyConstructorKeepsValuesAndIgnoresCase()
    {
        var copy = new AppInfo(new Dictionary<string, object?> { ["Key"] = "v" });
        Assert.That(copy.GetString("KEY"), Is.EqualTo("v"));
    }
}
