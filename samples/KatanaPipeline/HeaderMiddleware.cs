namespace KatanaPipeline;

using AppFunc = Func<IDictionary<string, object>, Task>;

/// <summary>Katana's "generator" middleware object: <c>Invoke(next, args...)</c> returns the component.</summary>
public class HeaderMiddleware
{
    /// <summary>Returns an AppFunc that adds the header, then calls <paramref name="next"/>.</summary>
    public AppFunc Invoke(AppFunc next, string name, string value) => environment =>
    {
        ((IDictionary<string, string[]>)environment["owin.ResponseHeaders"])[name] = [value];
        return next(environment);
    };
}
