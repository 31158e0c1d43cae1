namespace RocketOwin.Internal;

/// <summary>
/// Decodes the chunked transfer coding (RFC 9112 §7.1) from buffered bytes into a caller's buffer, one
/// step at a time, so the same code serves blocking and asynchronous reads. Chunk extensions are skipped;
/// trailer fields are checked for form and size and discarded.
/// </summary>
internal struct ChunkedDecoder
{
    private const int MaxChunkSizeLine = 4096;

    private State _state;
    private long _chunkRemaining;
    private long _total;
    private int _trailerBytes;

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailer,
        Done,
    }

    public readonly bool IsDone => _state == State.Done;

    public void Reset() => this = default;

    /// <summary>
    /// Consumes from <paramref name="input"/> and writes body bytes to <paramref name="output"/>.
    /// Returns the bytes produced; <paramref name="consumed"/> says how much input was used. Produces 0 with
    /// nothing consumed when more input is needed (or when done).
    /// </summary>
    public int Decode(ReadOnlySpan<byte> input, Span<byte> output, long? maxBodySize, int maxTrailerSize, out int consumed)
    {
        consumed = 0;
        while (true)
        {
            var rest = input[consumed..];
            switch (_state)
            {
                case State.Size:
                {
                    var lf = rest.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        if (rest.Length > MaxChunkSizeLine)
                        {
                            throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "chunk-size line too long");
                        }

                        return 0;
                    }

                    _chunkRemaining = ParseSize(rest[..lf]);
                    consumed += lf + 1;
                    _total += _chunkRemaining;
                    if (_total > maxBodySize)
                    {
                        throw new BadRequestException(RequestRejectionReason.RequestBodyTooLarge, $"chunked body over {maxBodySize} bytes");
                    }

                    _state = _chunkRemaining == 0 ? State.Trailer : State.Data;
                    break;
                }

                case State.Data:
                {
                    if (rest.IsEmpty || output.IsEmpty)
                    {
                        return 0;
                    }

                    var n = (int)Math.Min(Math.Min(rest.Length, output.Length), _chunkRemaining);
                    rest[..n].CopyTo(output);
                    consumed += n;
                    _chunkRemaining -= n;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.DataEnd;
                    }

                    return n;
                }

                case State.DataEnd:
                {
                    if (rest.Length < 1 || (rest[0] == (byte)'\r' && rest.Length < 2))
                    {
                        return 0;
                    }

                    if (rest[0] == (byte)'\n')
                    {
                        consumed += 1;
                    }
                    else if (rest[0] == (byte)'\r' && rest[1] == (byte)'\n')
                    {
                        consumed += 2;
                    }
                    else
                    {
                        throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "chunk data not followed by CRLF");
                    }

                    _state = State.Size;
                    break;
                }

                case State.Trailer:
                {
                    var lf = rest.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        if (_trailerBytes + rest.Length > maxTrailerSize)
                        {
                            throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, "trailer section too large");
                        }

                        return 0;
                    }

                    var line = rest[..lf];
                    if (!line.IsEmpty && line[^1] == (byte)'\r')
                    {
                        line = line[..^1];
                    }

                    consumed += lf + 1;
                    _trailerBytes += lf + 1;
                    if (_trailerBytes > maxTrailerSize)
                    {
                        throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, "trailer section too large");
                    }

                    if (line.IsEmpty)
                    {
                        _state = State.Done;
                        return 0;
                    }

                    var colon = line.IndexOf((byte)':');
                    if (colon <= 0 || !HttpCharacters.IsToken(line[..colon]))
                    {
                        throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "malformed trailer field");
                    }

                    foreach (var b in line[(colon + 1)..])
                    {
                        if (!HttpCharacters.IsFieldValueByte(b))
                        {
                            throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "control character in a trailer field");
                        }
                    }

                    break;
                }

                default:
                    return 0;
            }
        }
    }

    private static long ParseSize(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        // chunk-size [ chunk-ext ]: extensions start at ';' (whitespace before it tolerated, RFC 9112 §7.1.1 BWS).
        var semicolon = line.IndexOf((byte)';');
        var digits = (semicolon < 0 ? line : line[..semicolon]).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "bad chunk size");
        }

        long size = 0;
        foreach (var b in digits)
        {
            int v = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => throw new BadRequestException(RequestRejectionReason.InvalidChunkedBody, "bad chunk size"),
            };
            size = (size << 4) | (uint)v;
        }

        // RFC 9112 §7.1.1: extensions are tokens and quoted strings; a control byte (CR, NUL, ESC...) is never part of one.
        if (semicolon >= 0)
        {
            foreach (var b in line[semicolon..])
            {
                if (!HttpCharacters.IsFieldValueByte(b))
                {
                    throw new BadRequestException(RequestRejectionReason.InvalidChunkExtension);
                }
            }
        }

        return size;
    }
}
