namespace RocketOwin.Tests;

/// <summary>Deletes the temp folder of <see cref="Plugins.TestPlugins"/> once every test in RocketOwin.Tests.* has run.</summary>
[SetUpFixture]
public sealed class TestPluginsCleanup
{
    [OneTimeTearDown]
    public void DeleteBuiltPlugins() => Plugins.TestPlugins.DeleteAll();
}
