using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// <see cref="PooledValueTaskBuilder{TResult}"/> for methods returning <see cref="ValueTask"/>:
/// <c>[AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]</c>.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal struct PooledValueTaskBuilder
{
    private PooledValueTaskBuilder<bool> _inner;

    public readonly ValueTask Task => _inner.VoidTask;

    public static PooledValueTaskBuilder Create() => default;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The compiler calls it on the builder instance.")]
    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
        => _inner.Start(ref stateMachine);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "The compiler calls it on the builder instance.")]
    public readonly void SetStateMachine(IAsyncStateMachine stateMachine) => _inner.SetStateMachine(stateMachine);

    public void SetResult() => _inner.SetResult(true);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => _inner.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine
        => _inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
