
namespace Microsoft.Owin.Builder;

/// <summary>An AppFunc seen as an <see cref="OwinMiddleware"/> (what an OwinMiddleware's Next is when an AppFunc follows it).</summary>
internal sealed class AppFuncTransition(Func<IDictionary<string, object>, Task> next) : OwinMiddleware(null!)
{
    public override Task Invoke(IOwinContext context) => next(context.Environment);
}
