using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin.Builder;

/// <summary>An <see cref="OwinMiddleware"/> seen as an AppFunc; reuses the context cached on Rocket's environment.</summary>
internal sealed class OwinMiddlewareTransition(OwinMiddleware middleware)
{
    public Task Invoke(IDictionary<string, object> environment) => middleware.Invoke(OwinEnvironment.ContextFor(environment));
}
