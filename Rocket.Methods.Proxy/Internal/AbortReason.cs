namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Why a connection was aborted from outside the exchange using it.</summary>
internal enum AbortReason
{
    None,
    TimedOut,
    ClientGone,
    ServerStopping,
}
