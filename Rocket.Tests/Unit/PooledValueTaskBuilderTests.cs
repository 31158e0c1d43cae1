using System.Runtime.CompilerServices;
using RocketOwin.Methods.Proxy.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>The proxy's pooled async method builder: results, failures and the execution context as with the runtime's builders; boxes reused.</summary>
public class PooledValueTaskBuilderTests
{
    private static readonly AsyncLocal<string?> Flowing = new();

    [Test]
    public async Task AMethodThatCompletesAtOnceReturnsItsResultAndItsFailure()
    {
        Assert.That(await AddAsync(2, 3, null), Is.EqualTo(5));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await FailAsync(null));
        await NothingAsync(null);
    }

    [Test]
    public async Task AMethodThatWaitsReturnsItsResultAndItsFailureWhenResumed()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = AddAsync(20, 22, gate.Task);
        var failing = FailAsync(gate.Task);
        var nothing = NothingAsync(gate.Task);
        Assert.That(pending.IsCompleted, Is.False);
        gate.SetResult();
        Assert.That(await pending, Is.EqualTo(42));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await failing);
        await nothing;
    }

    [Test]
    public async Task TheExecutionContextFlowsAcrossAWaitAndBoxesAreReused()
    {
        var boxes = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var source = typeof(ValueTask<string?>).GetField("_obj", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        for (var round = 0; round < 50; round++)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Flowing.Value = "round " + round;
            var seen = ReadFlowingAsync(gate.Task);
            Flowing.Value = null;
            boxes.Add(source.GetValue(seen)!);
            gate.SetResult();
            Assert.That(await seen, Is.EqualTo("round " + round));
        }

        // One wait at a time: the box comes back to the pool when the result is taken, and the next call takes it again.
        Assert.That(boxes, Has.Count.EqualTo(1));
        Assert.That(boxes.Single(), Is.InstanceOf<PooledBox<string?>>());
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> AddAsync(int a, int b, Task? wait)
    {
        if (wait is not null)
        {
            await wait.ConfigureAwait(false);
        }

        return a + b;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> FailAsync(Task? wait)
    {
        if (wait is not null)
        {
            await wait.ConfigureAwait(false);
        }

        throw new InvalidOperationException("failed on purpose");
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private static async ValueTask NothingAsync(Task? wait)
    {
        if (wait is not null)
        {
            await wait.ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<string?> ReadFlowingAsync(Task wait)
    {
        await wait.ConfigureAwait(false);
        return Flowing.Value;
    }
}
