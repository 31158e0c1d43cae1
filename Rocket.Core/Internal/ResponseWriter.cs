using System.Buffers.Text;

namespace RocketOwin.Internal;

/// <summary>
/// HTTP/1.1 on the wire for one connection's responses (Kestrel's Http1OutputProducer): decides the framing when the
/// head goes out, writes the status line and header fields, and frames body bytes (Content-Length, chunked,
/// close-delimited) into the output buffer. <see cref="Response"/> holds what the handler set; this writes it.
/// </summary>
internal sealed class ResponseWriter
{
    private static readonly byte[] ServerLine = "Server: Rocket.Owin\r\n"u8.ToArray();
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly HttpExchange _exchange;
    private readonly Response _response;
    private Framing _framing;
    private long _declaredLength;

    public ResponseWriter(HttpExchange exchange, Response response)
    {
        _exchange = exchange;
        _response = response;
    }

    private enum Framing
    {
        NoBody,
        ContentLength,
        Chunked,
        CloseDelimited,
    }

    /// <summary>True when the connection may serve another request after this response.</summary>
    public bool KeepAlive { get; private set; }

    private bool IsHead => _exchange.Request.Method == "HEAD";

    public void Reset()
    {
        _framing = Framing.NoBody;
        KeepAlive = false;
    }

    /// <summary>Decides how the body is framed and whether the connection stays open. The one place framing is decided.</summary>
    /// <param name="declared">The Content-Length the handler declared, or -1.</param>
    /// <param name="final">True when the handler has finished: everything it wrote is buffered.</param>
    /// <param name="appClose">True when the handler's Connection field asks to close.</param>
    public void DecideFraming(long declared, bool final, bool appClose)
    {
        var request = _exchange.Request;
        var statusCode = _response.StatusCode;
        var bodyWritten = _response.BodyBytesWritten;
        if (statusCode is < 200 or 204 or 304)
        {
            _framing = Framing.NoBody;
        }
        else if (declared >= 0)
        {
            _framing = Framing.ContentLength;
            _declaredLength = declared;
            // A HEAD response's body is discarded (RFC 9110 §9.3.2), so what the handler wrote cannot contradict the length.
            if (!IsHead && (bodyWritten > declared || (final && bodyWritten != declared)))
            {
                throw new InvalidOperationException($"The response declared Content-Length {declared} but {bodyWritten} bytes were written.");
            }
        }
        else if (final && (!IsHead || bodyWritten > 0))
        {
            _framing = Framing.ContentLength;
            _declaredLength = bodyWritten;
        }
        else if (final)
        {
            _framing = Framing.NoBody; // HEAD with nothing written: no length to announce
        }
        else if (request.Version == HttpVersion.Http11)
        {
            _framing = Framing.Chunked;
        }
        else
        {
            _framing = Framing.CloseDelimited;
        }

        KeepAlive = _exchange.KeepAliveAllowed && request.KeepAlive && !appClose && _framing != Framing.CloseDelimited;
    }

    /// <summary>Writes the head, then the body bytes the handler wrote before it (framed), into the output buffer.</summary>
    public void WriteHead(ReadOnlySpan<byte> bufferedBody)
    {
        WriteStatusAndFields();
        if (bufferedBody.IsEmpty || IsHead)
        {
            return;
        }

        if (_framing == Framing.Chunked)
        {
            WriteChunkHeader(bufferedBody.Length);
            _exchange.Output.Write(bufferedBody);
            _exchange.Output.Write(Crlf);
        }
        else
        {
            _exchange.Output.Write(bufferedBody);
        }
    }

    /// <summary>Ends the body after the handler finished: the last chunk when chunked.</summary>
    /// <exception cref="InvalidOperationException">A declared Content-Length was not met.</exception>
    public void Complete()
    {
        var bodyWritten = _response.BodyBytesWritten;
        if (_framing == Framing.Chunked && !IsHead)
        {
            _exchange.Output.Write(LastChunk);
        }
        else if (_framing == Framing.ContentLength && bodyWritten < _declaredLength && !IsHead)
        {
            throw new InvalidOperationException($"The response declared Content-Length {_declaredLength} but only {bodyWritten} bytes were written.");
        }
    }

    /// <summary>After the head: checks <paramref name="length"/> more body bytes against the framing; false when nothing goes on the wire (HEAD, no-body status).</summary>
    public bool BeginBodyWrite(long length)
    {
        CheckDeclaredLength(_response.BodyBytesWritten);
        if (_framing == Framing.NoBody || IsHead)
        {
            return false;
        }

        if (_framing == Framing.Chunked)
        {
            WriteChunkHeader(length);
        }

        return true;
    }

    /// <summary>After a body write that went out directly (not through the output buffer): ends its chunk.</summary>
    public void EndBodyWrite()
    {
        if (_framing == Framing.Chunked)
        {
            _exchange.Output.Write(Crlf);
        }
    }

    /// <summary>Appends body bytes (framed) to the output buffer when they fit; false (<paramref name="direct"/> true) when they should go out directly.</summary>
    /// <returns>False when nothing goes on the wire (HEAD, no-body status).</returns>
    public bool AppendFramed(ReadOnlySpan<byte> data, int directThreshold, out bool direct)
    {
        direct = false;
        if (!BeginBodyWrite(data.Length))
        {
            return false;
        }

        var output = _exchange.Output;
        if (data.Length <= output.Free - 2 || data.Length < directThreshold)
        {
            output.Write(data);
            EndBodyWrite();
            return true;
        }

        direct = true;
        return true;
    }

    /// <summary>Sends the pending output and <paramref name="data"/> directly (blocking), then ends its chunk.</summary>
    public void WriteDirect(ReadOnlySpan<byte> data)
    {
        _exchange.Output.Flush();
        _exchange.Connection.Send(data);
        EndBodyWrite();
    }

    public async ValueTask WriteDirectAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Pending bytes (typically the head) and the body leave in one gathered send, as nginx's writev does.
        await _exchange.Output.FlushWithAsync(data, cancellationToken).ConfigureAwait(false);
        EndBodyWrite();
    }

    /// <summary>Writes an interim (1xx) head into the output buffer: its status line, the fields as given, the empty line; no Server, Date or framing fields.</summary>
    public void WriteInterim(int statusCode, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var output = _exchange.Output;
        WriteAscii(output, $"HTTP/1.1 {statusCode} {ReasonPhrases.Get(statusCode)}\r\n");
        for (var i = 0; i < fields.Count; i++)
        {
            WriteField(output, fields[i].Key, fields[i].Value);
        }

        output.Write(Crlf);
    }

    private void CheckDeclaredLength(long bodyWritten)
    {
        if (_framing == Framing.ContentLength && bodyWritten > _declaredLength && !IsHead)
        {
            throw new InvalidOperationException($"The response body is longer than its declared Content-Length {_declaredLength}.");
        }
    }

    private void WriteStatusAndFields()
    {
        var output = _exchange.Output;
        var request = _exchange.Request;
        var headers = _response.Headers;
        var statusCode = _response.StatusCode;
        var reasonPhrase = _response.ReasonPhrase;
        var statusLine = reasonPhrase is null ? ReasonPhrases.GetStatusLine(statusCode) : null;
        if (statusLine is not null)
        {
            output.Write(statusLine);
        }
        else
        {
            WriteAscii(output, $"HTTP/1.1 {statusCode} {reasonPhrase ?? ReasonPhrases.Get(statusCode)}\r\n");
        }

        if (!headers.Contains("Server"))
        {
            output.Write(ServerLine);
        }

        if (!headers.Contains("Date"))
        {
            output.Write(DateHeader.Line);
        }

        for (var i = 0; i < headers.Count; i++)
        {
            var name = headers.NameAt(i);
            if (IsFramingHeader(name) && statusCode != 101)
            {
                continue;
            }

            WriteField(output, name, headers.ValueAt(i));
        }

        switch (_framing)
        {
            case Framing.ContentLength:
            {
                var span = output.GetSpan(40);
                "Content-Length: "u8.CopyTo(span);
                Utf8Formatter.TryFormat(_declaredLength, span[16..], out var digits);
                span[16 + digits] = (byte)'\r';
                span[17 + digits] = (byte)'\n';
                output.Advance(18 + digits);
                break;
            }

            case Framing.Chunked:
                output.Write("Transfer-Encoding: chunked\r\n"u8);
                break;
            case Framing.NoBody when statusCode == 304 && headers.Contains("Content-Length"):
                WriteAscii(output, $"Content-Length: {headers["Content-Length"]}\r\n");
                break;
        }

        if (statusCode == 101)
        {
            // Switching protocols: the handler's Connection/Upgrade fields were written above.
        }
        else if (!KeepAlive && request.Version == HttpVersion.Http11)
        {
            output.Write("Connection: close\r\n"u8);
        }
        else if (KeepAlive && request.Version == HttpVersion.Http10)
        {
            output.Write("Connection: keep-alive\r\n"u8);
        }

        output.Write(Crlf);
    }

    private void WriteChunkHeader(long length)
    {
        var span = _exchange.Output.GetSpan(20);
        Utf8Formatter.TryFormat(length, span, out var n, new System.Buffers.StandardFormat('X'));
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        _exchange.Output.Advance(n);
    }

    private static void WriteField(OutputBuffer output, string name, string value)
    {
        var span = output.GetSpan(name.Length + value.Length + 4);
        var n = Latin1.Write(name, span);
        span[n++] = (byte)':';
        span[n++] = (byte)' ';
        n += Latin1.Write(value, span[n..]);
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    private static bool IsFramingHeader(string name)
        => name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
           || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
           || name.Equals("Connection", StringComparison.OrdinalIgnoreCase);

    private static void WriteAscii(OutputBuffer output, string text)
    {
        var span = output.GetSpan(text.Length);
        output.Advance(Latin1.Write(text, span));
    }
}
