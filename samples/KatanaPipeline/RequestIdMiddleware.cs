namespace KatanaPipeline;

using AppFunc = Func<IDictionary<string, object>, Task>;

/// <summary>Raw OWIN middleware (a Func&lt;AppFunc, AppFunc&gt;): sets X-Request-Id from owin.RequestId before the rest runs.</summary>
public static class RequestIdMiddleware
{
    /// <summary>The middleware delegate to pass to <c>app.Use</c>.</summary>
    public static Func<AppFunc, AppFunc> Create() => next => environment =>
    {
        var headers = (IDictionary<string, string[]>)environment["owin.ResponseHeaders"];
        headers["X-Request-Id"] = [environment.TryGetValue("owin.RequestId", out var id) ? (string)id : Guid.NewGuid().ToString("N")];
        return next(environment);
    };
}
