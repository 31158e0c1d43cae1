using System.Buffers;
using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>Sends a byte range of a file: sendfile(2) via SendPacketsAsync on plain sockets, a pooled-buffer copy on TLS.</summary>
internal static class FileSender
{
    private const int CopyBufferSize = 64 * 1024;

    /// <exception cref="IOException">The file ended before <paramref name="count"/> bytes (changed while sending) or the send failed.</exception>
    public static async ValueTask SendAsync(ConnectionTransport connection, string path, long offset, long count, CancellationToken cancellationToken)
    {
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            BufferSize = 0,
        });

        if (file.Length < offset + count)
        {
            throw new IOException($"'{path}' has {file.Length} bytes; cannot send {count} from offset {offset}.");
        }

        if (await connection.TrySendFileOnLoopAsync(file.SafeFileHandle, offset, count, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (connection.Tls is null)
        {
            await SendPlainAsync(connection, file, offset, count, cancellationToken).ConfigureAwait(false);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            file.Position = offset;
            while (count > 0)
            {
                var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"'{path}' was truncated while being sent.");
                }

                await connection.SendAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask SendPlainAsync(ConnectionTransport connection, FileStream file, long offset, long count, CancellationToken cancellationToken)
    {
        var socket = connection.Socket;
        using var args = new SocketAsyncEventArgs();
        var done = new SendPacketsCompletion();
        args.Completed += (_, e) => ((SendPacketsCompletion)e.UserToken!).Complete();
        args.UserToken = done;
        while (count > 0)
        {
            // SendPacketsElement takes an int count; very large files go in 1 GiB steps.
            var step = (int)Math.Min(count, 1 << 30);
            args.SendPacketsElements = [new SendPacketsElement(file, offset, step, endOfPacket: true)];
            done.Reset();
            connection.BeginWrite(step);
            try
            {
                if (socket.SendPacketsAsync(args))
                {
                    await using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket).ConfigureAwait(false))
                    {
                        await done.Task.ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                connection.EndWrite();
            }

            if (args.SocketError != SocketError.Success)
            {
                throw new IOException($"sendfile failed: {args.SocketError}", new SocketException((int)args.SocketError));
            }

            if (file.Length < offset + step)
            {
                throw new IOException("The file was truncated while being sent.");
            }

            offset += step;
            count -= step;
        }
    }

    private sealed class SendPacketsCompletion
    {
        private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _tcs.Task;

        public void Reset() => _tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete() => _tcs.TrySetResult();
    }
}
