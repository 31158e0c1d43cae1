using System.Threading.Tasks.Sources;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// What <see cref="PooledValueTaskBuilder{TResult}"/>'s tasks wait on: the boxed state machine of an asynchronous method
/// that did not complete at once. Returned to its pool when the awaiting caller takes the result (a pooled task is
/// awaited exactly once, as with the runtime's pooling builder).
/// </summary>
/// <typeparam name="TResult">The method's result (<see cref="bool"/> for a method returning <see cref="ValueTask"/>).</typeparam>
internal abstract class PooledBox<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    public short Version => _core.Version;

    public void SetResult(TResult result) => _core.SetResult(result);

    public void SetException(Exception error) => _core.SetException(error);

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Return();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Clears the state machine and goes back to the pool (its result was taken).</summary>
    protected abstract void Return();
}
