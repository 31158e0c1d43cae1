namespace RocketOwin.Tests.Owin.Katana.Foreign;

/// <summary>An OwinStartupAttribute that is not Rocket's (as a project could define its own copy): Katana matched it by name.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class OwinStartupAttribute(Type startupType) : Attribute
{
    public Type StartupType { get; } = startupType;
}
