using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>
/// Runs a parsed request through the method's handler and finishes it: the only place handler failures become
/// responses, where keep-alive is decided after the response, and where a body the handler left unread is drained.
/// </summary>
/// <remarks>
/// One direction: <see cref="ServerCore"/> calls down (through <see cref="HttpExchange.RunTurn"/>) and gets a
/// <see cref="TurnResult"/> back; a request that finishes off the worker thread (an asynchronous handler, an
/// asynchronous drain) hands its result to <see cref="ServerCore.Resume"/>, which re-queues or releases the connection.
/// </remarks>
internal static class RequestFinisher
{
    /// <summary>Runs one request whose head has been parsed; the only place handler failures become responses.</summary>
    /// <param name="exchange">The exchange whose head was just consumed.</param>
    /// <param name="worker">The method's worker.</param>
    /// <param name="onWorkerThread">False on a thread that must not block: the finish of a handler that completed at once
    /// then sends asynchronously too, and hands the connection on through <see cref="ServerCore.Resume"/> if it must wait.</param>
    public static TurnResult Serve(HttpExchange exchange, Worker worker, bool onWorkerThread = true)
    {
        exchange.BeginRequest();
        var server = exchange.Server;
        server.RequestStarted();
        worker.EnterRequest();
        exchange.ServedBy = worker;
        ValueTask pending;
        try
        {
            pending = worker.Handle(exchange.Context);
        }
        catch (Exception e)
        {
            pending = ValueTask.FromException(e);
        }

        if (!pending.IsCompleted)
        {
            if (!exchange.TryHandOffHandler())
            {
                // The handler switched protocols before returning: the upgraded connection waits for it, holding none of
                // the request's objects; the exchange is the pool's again (nothing here touches it after the release).
                var connection = exchange.Connection;
                var upgraded = connection.Upgraded!;
                exchange.ServedBy = null;
                server.ReleaseExchange(connection);
                upgraded.FinishWhenHandled(pending, worker);
                return TurnResult.Handed;
            }

            // The monitor's sweep starts a disconnect watch for requests still running a second later;
            // quick asynchronous requests (most proxied ones) never pay for it.
            exchange.HandlerPending = true;
            exchange.FinishWhenHandled(pending);
            return TurnResult.Handed;
        }

        Exception? failure = null;
        try
        {
            pending.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            failure = e;
        }

        // On a worker thread every send blocks rather than awaits, so the finish is always complete here.
        var finishing = exchange.Connection;
        var finished = FinishAsync(exchange, failure, onWorkerThread);
        Debug.Assert(!onWorkerThread || finished.IsCompleted, "A finish on a worker thread never awaits.");
        if (finished.IsCompleted)
        {
            return finished.GetAwaiter().GetResult();
        }

        _ = ResumeAfterAsync(server, finishing, finished);
        return TurnResult.Handed;
    }

    /// <summary>Answers a request the parser refused, then closes the connection (its framing can no longer be trusted).</summary>
    public static void Reject(HttpExchange exchange, BadRequestException e)
    {
        RocketLog.Main.Debug("Rejected a request from {0}: {1}", exchange.Connection.RemoteEndPoint, e.Message);
        exchange.Server.Metrics?.Rejected(e.Reason);
        if (e.Reason == RequestRejectionReason.UnsupportedHttpVersion || exchange.Request.Method.Length == 0)
        {
            exchange.Request.Version = HttpVersion.Http11;
        }

        exchange.BeginRequest();
        exchange.KeepAliveAllowed = false;
        WriteErrorResponse(exchange, e.StatusCode);
        RequestLog.Completed(exchange, e.StatusCode);
        try
        {
            exchange.Output.Flush();
        }
        catch (Exception sendFailure) when (ClientGone.Is(sendFailure))
        {
            // The refusal could not be delivered: closing is all that is left.
        }

        exchange.Connection.Close(abort: false);
    }

    /// <summary>
    /// Finishes a request whose handler completed asynchronously, on its continuation (<see cref="HttpExchange.FinishWhenHandled"/>),
    /// which may be the socket engine's own thread: nothing here may block on the network, or every connection that engine
    /// serves waits with it. So every send is asynchronous (the response, an error response, the answer before a drain),
    /// and the drain of a body the handler left unread is asynchronous too; the result goes to the server, which serves the
    /// connection on or releases it.
    /// </summary>
    /// <remarks>
    /// A callback rather than an asynchronous method: the method's state machine (160 B) would live as long as the handler
    /// runs, which for an upgraded connection (a WebSocket) is as long as it stays open; the callback is the exchange's own.
    /// </remarks>
    public static void Complete(HttpExchange exchange, ValueTask handled)
    {
        Exception? failure = null;
        try
        {
            handled.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            failure = e;
        }

        var connection = exchange.Connection;
        var finish = FinishAsync(exchange, failure, onWorkerThread: false);
        if (finish.IsCompletedSuccessfully)
        {
            exchange.Server.Resume(connection, finish.Result);
        }
        else
        {
            _ = ResumeAfterAsync(exchange.Server, connection, finish);
        }
    }

    private static async Task ResumeAfterAsync(ServerCore server, ConnectionTransport connection, ValueTask<TurnResult> finish)
        => server.Resume(connection, await finish.ConfigureAwait(false));

    /// <summary>
    /// Ends the response (or answers the failure), drains a body the handler left unread, logs the request and decides
    /// whether the connection serves on. <paramref name="onWorkerThread"/>: sends block (then this never awaits, and
    /// pipelined responses are batched into one send); otherwise they are asynchronous and the response goes out at once.
    /// </summary>
    private static async ValueTask<TurnResult> FinishAsync(HttpExchange exchange, Exception? failure, bool onWorkerThread)
    {
        var server = exchange.Server;
        var connection = exchange.Connection;
        var response = exchange.Response;
        exchange.HandlerPending = false;
        try
        {
            if (exchange.Upgraded)
            {
                if (connection.Upgraded is { } upgraded)
                {
                    upgraded.EndConnection(failure);
                }
                else
                {
                    // The 101 never went out (the handler failed or gave up during UpgradeAsync).
                    if (failure is not null && !ClientGone.Is(failure))
                    {
                        RocketLog.Errors.Error(failure, "Upgrade of connection {0} from {1} failed.", connection.Id, connection.RemoteEndPoint);
                    }

                    connection.Close(abort: true);
                }

                return TurnResult.Closed;
            }

            if (failure is null)
            {
                try
                {
                    response.Complete();
                }
                catch (InvalidOperationException e)
                {
                    failure = e;
                }
            }

            if (failure is not null)
            {
                if (ClientGone.Is(failure))
                {
                    RocketLog.Main.Debug("Client {0} went away during {1} {2}: {3}", connection.RemoteEndPoint, exchange.Request.Method, exchange.Request.Target, failure.Message);
                    exchange.Context.Abort();
                    connection.Close(abort: true);
                    return TurnResult.Closed;
                }

                if (response.HasStarted)
                {
                    // Headers are out: a status can no longer change. Abort so the client never takes a truncated body for a whole one.
                    RocketLog.Errors.Error(failure, "{0} {1} from {2} failed after the response started; connection aborted.", exchange.Request.Method, exchange.Request.Target, connection.RemoteEndPoint);
                    RequestLog.Completed(exchange, response.StatusCode);
                    exchange.Context.Abort();
                    connection.Close(abort: true);
                    return TurnResult.Closed;
                }

                // Whatever the failed handler started in the background for this request is cancelled (as Katana's hosts did).
                exchange.Context.Abort();
                var status = failure is BadRequestException bad ? bad.StatusCode : 500;
                if (failure is BadRequestException refused)
                {
                    server.Metrics?.Rejected(refused.Reason);
                }

                if (status == 500)
                {
                    RocketLog.Errors.Error(failure, "{0} {1} from {2} failed; answered 500.", exchange.Request.Method, exchange.Request.Target, connection.RemoteEndPoint);
                }
                else
                {
                    RocketLog.Main.Debug("{0} {1} from {2}: {3}", exchange.Request.Method, exchange.Request.Target, connection.RemoteEndPoint, failure.Message);
                }

                // After a failure the rest of the request body is in an unknown state: answer and close.
                exchange.KeepAliveAllowed = false;
                WriteErrorResponse(exchange, status);
            }

            var keepAlive = response.KeepAlive;
            var logged = false;
            if (keepAlive && !exchange.Body.IsComplete)
            {
                // Answer before draining what the handler left unread: the client may wait for the answer before sending the rest.
                await FlushAsync(exchange, onWorkerThread).ConfigureAwait(false);

                // Logged first: a drain that goes asynchronous may end, and the connection serve its next request, before
                // StartDrain returns.
                RequestLog.Completed(exchange, response.StatusCode);
                logged = true;
                if (StartDrain(exchange) is not { } drained)
                {
                    // The rest of the body trickles in asynchronously (EndDrain serves the connection on); the worker moves on.
                    return TurnResult.Handed;
                }

                keepAlive = drained;
            }

            if (!logged)
            {
                RequestLog.Completed(exchange, response.StatusCode);
            }

            // Pipelined requests already buffered get their responses batched into one send (on a worker thread, which serves them next).
            if (!onWorkerThread || !keepAlive || exchange.BufferedInput == 0 || exchange.Output.Count >= exchange.Limits.ResponseBufferSize)
            {
                await FlushAsync(exchange, onWorkerThread).ConfigureAwait(false);
            }

            if (!keepAlive)
            {
                connection.Close(abort: false);
                return TurnResult.Closed;
            }

            return TurnResult.Continue;
        }
        catch (Exception e) when (ClientGone.Is(e) || e is BadRequestException)
        {
            RocketLog.Main.Debug("Client {0} went away while finishing {1} {2}: {3}", connection.RemoteEndPoint, exchange.Request.Method, exchange.Request.Target, e.Message);
            exchange.Context.Abort();
            connection.Close(abort: true);
            return TurnResult.Closed;
        }
        catch (Exception e)
        {
            RocketLog.Errors.Error(e, "Finishing {0} {1} failed; connection aborted.", exchange.Request.Method, exchange.Request.Target);
            exchange.Context.Abort();
            connection.Close(abort: true);
            return TurnResult.Closed;
        }
        finally
        {
            server.RequestFinished();
            if (exchange.ServedBy is { } worker)
            {
                // Cleared so a pooled exchange never keeps a reloaded-away worker (and its load context) alive.
                exchange.ServedBy = null;
                worker.LeaveRequest();
            }
        }
    }

    /// <summary>
    /// Starts discarding the body the handler left unread; the result is false when the connection cannot be reused (too
    /// much left, too slow, or bad framing found while draining), null when the drain went asynchronous (EndDrain ends it).
    /// </summary>
    private static bool? StartDrain(HttpExchange exchange)
    {
        try
        {
            return exchange.Body.Drain(exchange.Limits.MaxUnreadBodyToDrain, exchange.Limits.UnreadBodyDrainTimeout, EndDrain);
        }
        catch (BadRequestException e)
        {
            LogUndrained(exchange, e);
            return false;
        }
    }

    /// <summary>Ends a drain that went asynchronous, where its last receive completed: the connection is served on, or closed.</summary>
    private static void EndDrain(HttpExchange exchange, bool keepAlive, Exception? failure)
    {
        if (failure is BadRequestException || (failure is not null && ClientGone.Is(failure)))
        {
            // The response is already out; the body's fault only means the connection ends here.
            LogUndrained(exchange, failure);
        }
        else if (failure is not null)
        {
            RocketLog.Errors.Error(failure, "Draining the unread body of {0} {1} failed; connection closed.", exchange.Request.Method, exchange.Request.Target);
        }

        var connection = exchange.Connection;
        if (!keepAlive || exchange.Server.IsStopping)
        {
            connection.Close(abort: false);
            exchange.Server.Resume(connection, TurnResult.Closed);
            return;
        }

        exchange.Server.Resume(connection, TurnResult.Continue);
    }

    private static void LogUndrained(HttpExchange exchange, Exception e)
        => RocketLog.Main.Debug("Unread body of {0} {1} from {2} could not be drained: {3}", exchange.Request.Method, exchange.Request.Target, exchange.Connection.RemoteEndPoint, e.Message);

    private static void WriteErrorResponse(HttpExchange exchange, int status)
    {
        var response = exchange.Response;
        response.Reset();
        response.StatusCode = status;
        response.Headers.Set("Content-Length", "0");
        response.Complete();
    }

    private static ValueTask FlushAsync(HttpExchange exchange, bool onWorkerThread)
    {
        if (!onWorkerThread)
        {
            return exchange.Output.FlushAsync(CancellationToken.None);
        }

        exchange.Output.Flush();
        return ValueTask.CompletedTask;
    }
}
