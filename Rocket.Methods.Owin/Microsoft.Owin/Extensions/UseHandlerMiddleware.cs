namespace Microsoft.Owin.Extensions;

/// <summary>The middleware behind <c>app.Use((context, next) =&gt; ...)</c> and <c>app.Run(context =&gt; ...)</c>.</summary>
public class UseHandlerMiddleware : OwinMiddleware
{
    private readonly Func<IOwinContext, Task>? _terminal;
    private readonly Func<IOwinContext, Func<Task>, Task>? _handler;

    /// <summary>A handler that ends the pipeline (<c>Run</c>).</summary>
    public UseHandlerMiddleware(OwinMiddleware next, Func<IOwinContext, Task> handler)
        : base(next)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _terminal = handler;
    }

    /// <summary>A handler that may call the next component (<c>Use</c>).</summary>
    public UseHandlerMiddleware(OwinMiddleware next, Func<IOwinContext, Func<Task>, Task> handler)
        : base(next)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    /// <inheritdoc />
    public override Task Invoke(IOwinContext context)
        => _terminal is not null ? _terminal(context) : _handler!(context, () => Next.Invoke(context));
}
