namespace Microsoft.Owin;

/// <summary>
/// Names an assembly's startup class (and optionally its method) for Startup discovery:
/// <c>[assembly: OwinStartup(typeof(MyApp.Startup))]</c>. A friendly name lets one assembly carry several,
/// chosen by <c>appInfo["startup"]</c> or <see cref="Hosting.StartOptions.AppStartup"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class OwinStartupAttribute : Attribute
{
    /// <summary>The startup class; its <c>Configuration(IAppBuilder)</c> method is used.</summary>
    public OwinStartupAttribute(Type startupType)
        : this(string.Empty, startupType, string.Empty)
    {
    }

    /// <summary>A named startup class.</summary>
    public OwinStartupAttribute(string friendlyName, Type startupType)
        : this(friendlyName, startupType, string.Empty)
    {
    }

    /// <summary>A startup class and method.</summary>
    public OwinStartupAttribute(Type startupType, string methodName)
        : this(string.Empty, startupType, methodName)
    {
    }

    /// <summary>A named startup class and method.</summary>
    public OwinStartupAttribute(string friendlyName, Type startupType, string methodName)
    {
        ArgumentNullException.ThrowIfNull(friendlyName);
        ArgumentNullException.ThrowIfNull(startupType);
        ArgumentNullException.ThrowIfNull(methodName);
        FriendlyName = friendlyName;
        StartupType = startupType;
        MethodName = methodName;
    }

    /// <summary>The name this startup is chosen by; empty for the default.</summary>
    public string FriendlyName { get; }

    /// <summary>The startup class.</summary>
    public Type StartupType { get; }

    /// <summary>The configuration method; empty means <c>Configuration</c>.</summary>
    public string MethodName { get; }
}
