using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// The plaintext round trip with a handler that completes asynchronously (it yields once, as every proxied request
/// waits for its upstream). Allocated is what the engine itself costs per asynchronous request: the baseline to
/// subtract from <see cref="ProxyRoundTripBenchmarks"/> to get the proxy method's own allocations.
/// </summary>
[MemoryDiagnoser]
public class AsyncHandlerRoundTripBenchmark : PlaintextRoundTripBenchmark
{
    private static readonly byte[] Body = "Hello, World!"u8.ToArray();

    protected override string RegisterMethod()
    {
        Rocket.RegisterMethod("micro-async", () => new YieldingWorker());
        return "micro-async";
    }

    private sealed class YieldingWorker : Worker
    {
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        protected override async ValueTask HandleAsync(RequestContext context)
        {
            // A pooled state machine box, queued as its own work item: the handler allocates nothing itself.
            await Task.Yield();
            context.Response.Headers.ContentType = "text/plain";
            context.Response.Write(Body);
        }
    }
}
