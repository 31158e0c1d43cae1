using System.Runtime.CompilerServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// The box of one asynchronous method (one state machine type), pooled per type without a small limit.
/// </summary>
/// <remarks>
/// The runtime's <see cref="PoolingAsyncValueTaskMethodBuilder"/> keeps one box per thread and one per processor. The
/// proxy serves from the socket engine's thread with hundreds of requests waiting on their upstreams at once (and in the
/// benchmark's placement sees one processor), so nearly every await that waited allocated a new box: at c256 the
/// allocation and the garbage collections it caused were ~13% of the proxy's CPU samples. Here the boxes of the requests
/// in flight come back to a stack under a lock held for a push or a pop.
/// </remarks>
/// <typeparam name="TResult">The method's result.</typeparam>
/// <typeparam name="TStateMachine">The compiler's state machine of the method.</typeparam>
internal sealed class PooledStateMachineBox<TResult, TStateMachine> : PooledBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    /// <summary>Boxes kept per method: about the requests a busy proxy has in flight; more are left to the GC.</summary>
    private const int MaxPooled = 4096;

    private static readonly Lock Gate = new();
    private static readonly Stack<PooledStateMachineBox<TResult, TStateMachine>> Pool = new();
    private static readonly ContextCallback MoveNextInContext = static state => ((PooledStateMachineBox<TResult, TStateMachine>)state!).StateMachine!.MoveNext();

    private PooledStateMachineBox() => MoveNextAction = MoveNext;

    /// <summary>The method's state, moved here at its first await that did not complete at once.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1051", Justification = "Mutated in place through the compiler's ref: a property would copy the struct.")]
    public TStateMachine? StateMachine;

    /// <summary>The execution context captured at the pending await, restored around the continuation.</summary>
    public ExecutionContext? Context { get; set; }

    /// <summary>The continuation handed to awaiters (one delegate per box, not one per await).</summary>
    public Action MoveNextAction { get; }

    public static PooledStateMachineBox<TResult, TStateMachine> Rent()
    {
        lock (Gate)
        {
            if (Pool.TryPop(out var box))
            {
                return box;
            }
        }

        return new PooledStateMachineBox<TResult, TStateMachine>();
    }

    protected override void Return()
    {
        StateMachine = default;
        Context = null;
        lock (Gate)
        {
            if (Pool.Count < MaxPooled)
            {
                Pool.Push(this);
            }
        }
    }

    private void MoveNext()
    {
        var context = Context;
        if (context is null)
        {
            StateMachine!.MoveNext();
        }
        else
        {
            ExecutionContext.Run(context, MoveNextInContext, this);
        }
    }
}
