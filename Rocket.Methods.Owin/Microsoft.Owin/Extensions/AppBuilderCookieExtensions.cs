using Microsoft.Owin.Infrastructure;
using Owin;

namespace Microsoft.Owin;

/// <summary>The default cookie managers middleware use when their options name none, kept in the builder's properties (Katana's keys).</summary>
public static class AppBuilderCookieExtensions
{
    private const string CookieManagerKey = "infrastructure.CookieManager";
    private const string ChunkingCookieManagerKey = "infrastructure.ChunkingCookieManager";

    /// <summary>Sets the default <see cref="ICookieManager"/> (null removes it).</summary>
    public static void SetDefaultCookieManager(this IAppBuilder app, ICookieManager? manager) => Put(app, CookieManagerKey, manager);

    /// <summary>Sets the default chunking <see cref="ICookieManager"/> (null removes it).</summary>
    public static void SetDefaultChunkingCookieManager(this IAppBuilder app, ICookieManager? manager) => Put(app, ChunkingCookieManagerKey, manager);

    /// <summary>The default cookie manager, or a new <see cref="CookieManager"/> when none was set.</summary>
    public static ICookieManager GetDefaultCookieManager(this IAppBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Properties.TryGetValue(CookieManagerKey, out var value) && value is ICookieManager manager ? manager : new CookieManager();
    }

    /// <summary>The default chunking cookie manager, or a new <see cref="ChunkingCookieManager"/> when none was set.</summary>
    public static ICookieManager GetDefaultChunkingCookieManager(this IAppBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Properties.TryGetValue(ChunkingCookieManagerKey, out var value) && value is ICookieManager manager ? manager : new ChunkingCookieManager();
    }

    private static void Put(IAppBuilder app, string key, ICookieManager? manager)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (manager is null)
        {
            app.Properties.Remove(key);
        }
        else
        {
            app.Properties[key] = manager;
        }
    }
}
