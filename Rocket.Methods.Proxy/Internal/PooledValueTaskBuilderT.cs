using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// An async method builder for <see cref="ValueTask{TResult}"/> methods on the proxy's per-request path:
/// <c>[AsyncMethodBuilder(typeof(PooledValueTaskBuilder&lt;&gt;))]</c>. A method that completes at once allocates nothing;
/// one that waits takes its box from a per-method pool (<see cref="PooledStateMachineBox{TResult, TStateMachine}"/>)
/// and returns it when the caller takes the result. The task must be awaited exactly once.
/// </summary>
/// <typeparam name="TResult">The method's result.</typeparam>
[StructLayout(LayoutKind.Auto)]
internal struct PooledValueTaskBuilder<TResult>
{
    private PooledBox<TResult>? _box;
    private Exception? _exception;
    private TResult _result;

    public readonly ValueTask<TResult> Task
        => _box is { } box ? new ValueTask<TResult>(box, box.Version)
            : _exception is { } error ? ValueTask.FromException<TResult>(error)
            : new ValueTask<TResult>(_result);

    /// <summary>The task of a method returning <see cref="ValueTask"/> (see <see cref="PooledValueTaskBuilder"/>).</summary>
    internal readonly ValueTask VoidTask
        => _box is { } box ? new ValueTask(box, box.Version)
            : _exception is { } error ? ValueTask.FromException(error)
            : default;

    public static PooledValueTaskBuilder<TResult> Create() => default;

    /// <summary>Runs the method to its first pending await (the runtime's own start: contexts restored afterwards).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The compiler calls it on the builder instance.")]
    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
        => AsyncTaskMethodBuilder.Create().Start(ref stateMachine);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The compiler calls it on the builder instance.")]
    public readonly void SetStateMachine(IAsyncStateMachine stateMachine) => ArgumentNullException.ThrowIfNull(stateMachine);

    public void SetResult(TResult result)
    {
        if (_box is { } box)
        {
            box.SetResult(result);
        }
        else
        {
            _result = result;
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is { } box)
        {
            box.SetException(exception);
        }
        else
        {
            _exception = exception;
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => awaiter.OnCompleted(Box(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => awaiter.UnsafeOnCompleted(Box(ref stateMachine).MoveNextAction);

    private PooledStateMachineBox<TResult, TStateMachine> Box<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        var context = ExecutionContext.Capture();
        if (_box is PooledStateMachineBox<TResult, TStateMachine> boxed)
        {
            boxed.Context = context;
            return boxed;
        }

        // First wait: this builder lives inside the state machine, so it must point at the box before the copy is made.
        var box = PooledStateMachineBox<TResult, TStateMachine>.Rent();
        _box = box;
        box.StateMachine = stateMachine;
        box.Context = context;
        return box;
    }
}
