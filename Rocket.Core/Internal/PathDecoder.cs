using System.Buffers;
using System.Text;

namespace RocketOwin.Internal;

/// <summary>Percent-decodes a request path as UTF-8 (RFC 3986 §2.1), keeping <c>%2F</c> encoded so a decoded slash never joins segments.</summary>
internal static class PathDecoder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <exception cref="BadRequestException">The decoded bytes are not valid UTF-8 (overlong forms included).</exception>
    public static string Decode(string raw)
    {
        if (!raw.Contains('%', StringComparison.Ordinal))
        {
            return raw;
        }

        var rented = ArrayPool<byte>.Shared.Rent(raw.Length);
        try
        {
            var n = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '%' && i + 2 < raw.Length && IsHex(raw[i + 1]) && IsHex(raw[i + 2]))
                {
                    var b = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                    if (b == (byte)'/')
                    {
                        rented[n++] = (byte)'%';
                        rented[n++] = (byte)raw[i + 1];
                        rented[n++] = (byte)raw[i + 2];
                    }
                    else
                    {
                        rented[n++] = b;
                    }

                    i += 2;
                }
                else
                {
                    rented[n++] = (byte)c;
                }
            }

            try
            {
                return StrictUtf8.GetString(rented, 0, n);
            }
            catch (DecoderFallbackException)
            {
                throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "path is not valid UTF-8 after percent-decoding");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
