using System.Globalization;
using System.Reflection;
using RocketOwin.Internal;

namespace RocketOwin.Host;

/// <summary>One <c>--limit NAME=VALUE</c> (or an entry of the config file's <c>limits</c>), with how the user wrote it for messages.</summary>
/// <param name="Name">The ServerLimits property as typed (any case).</param>
/// <param name="Value">The value as typed: <c>200MiB</c>, <c>30s</c>, <c>none</c>.</param>
/// <param name="Origin">How the user gave it, for error messages: <c>--limit MaxRequestBodySize=2x</c> or <c>rocket.json: limits.MaxRequestBodySize</c>.</param>
internal sealed record LimitSetting(string Name, string Value, string Origin);

/// <summary>
/// Sets <see cref="ServerLimits"/> properties by name from text. The properties are found by reflection (every public
/// settable one), so a limit added to ServerLimits works with <c>--limit</c> and the config file with no change here.
/// Sizes (int and long properties) take bytes or a unit; durations (TimeSpan) take seconds or a unit; nullable ones
/// take <c>none</c>; other types need a static <c>Parse(string, IFormatProvider)</c>.
/// </summary>
internal static class LimitSettings
{
    private static readonly Dictionary<string, PropertyInfo> Properties = typeof(ServerLimits)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private static readonly (string Unit, long Factor)[] SizeUnits =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000), ("TB", 1000_000_000_000),

        // nginx's units (client_max_body_size 200m): binary.
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("B", 1),
    ];

    private static readonly (string Unit, double Seconds)[] DurationUnits =
        [("ms", 0.001), ("min", 60), ("s", 1), ("h", 3600), ("d", 86400)];

    /// <summary>Every limit's name, in ServerLimits' own spelling.</summary>
    public static IReadOnlyList<string> Names { get; } = Properties.Values.Select(p => p.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>Limits with every setting applied in order (later ones win).</summary>
    /// <exception cref="HostException">An unknown name or a bad value; the message starts with <see cref="LimitSetting.Origin"/>.</exception>
    public static ServerLimits Build(IEnumerable<LimitSetting> settings)
    {
        var limits = new ServerLimits();
        foreach (var s in settings)
        {
            if (!Properties.TryGetValue(s.Name.Trim(), out var property))
            {
                throw new HostException($"{s.Origin}: no such limit{Spelling.DidYouMean(s.Name.Trim(), Names)} (limits: {string.Join(", ", Names)}).");
            }

            var value = Parse(property, s.Value.Trim(), s.Origin);
            try
            {
                property.SetValue(limits, value);
            }
            catch (TargetInvocationException e) when (e.InnerException is ArgumentException a)
            {
                throw new HostException($"{s.Origin}: {PlainMessage(a)}");
            }
            catch (ArgumentException e)
            {
                throw new HostException($"{s.Origin}: {PlainMessage(e)}");
            }
        }

        return limits;
    }

    /// <summary>The message of an ArgumentException without the "(Parameter 'x')" and "Actual value was" lines .NET appends.</summary>
    internal static string PlainMessage(ArgumentException e)
    {
        var message = e.Message.Split('\n')[0];
        var parameter = e.ParamName is null ? -1 : message.IndexOf($" (Parameter '{e.ParamName}')", StringComparison.Ordinal);
        return (parameter >= 0 ? message[..parameter] : message).Trim();
    }

    private static object? Parse(PropertyInfo property, string text, string origin)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType);
        var nullable = type is not null || !property.PropertyType.IsValueType;
        type ??= property.PropertyType;
        if (nullable && text.ToUpperInvariant() is "NONE" or "NULL" or "UNLIMITED")
        {
            return null;
        }

        var orNone = nullable ? ", or none for no limit" : string.Empty;
        if (type == typeof(int) || type == typeof(long))
        {
            var bytes = ParseSize(text) ?? throw new HostException($"{origin}: expected a whole number, or a size with a unit (200MiB, 64KiB, 1GiB; k/m/g as in nginx){orNone}.");
            if (type == typeof(int) && bytes > int.MaxValue)
            {
                throw new HostException(string.Create(CultureInfo.InvariantCulture, $"{origin}: {bytes} is too large for {property.Name} (at most {int.MaxValue})."));
            }

            return type == typeof(int) ? (object)(int)bytes : bytes;
        }

        if (type == typeof(TimeSpan))
        {
            return ParseDuration(text) ?? throw new HostException($"{origin}: expected a duration: seconds, or a number with ms, s, min or h (500ms, 30s, 2min){orNone}.");
        }

        if (type == typeof(bool))
        {
            return text.ToUpperInvariant() switch
            {
                "TRUE" or "YES" or "ON" or "1" => true,
                "FALSE" or "NO" or "OFF" or "0" => false,
                _ => throw new HostException($"{origin}: expected true or false."),
            };
        }

        if (type == typeof(double) || type == typeof(float))
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                ? Convert.ChangeType(d, type, CultureInfo.InvariantCulture)
                : throw new HostException($"{origin}: expected a number{orNone}.");
        }

        if (type.IsEnum)
        {
            return Enum.TryParse(type, text, ignoreCase: true, out var member) && Enum.IsDefined(type, member!)
                ? member
                : throw new HostException($"{origin}: expected one of {string.Join(", ", Enum.GetNames(type))}.");
        }

        // A limit of its own type (a data rate, say) is settable when the type parses itself, as IParsable types do.
        var parse = type.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(IFormatProvider)]);
        if (parse is null)
        {
            throw new HostException($"{origin}: {property.Name} ({type.Name}) cannot be set from text; set it in code.");
        }

        try
        {
            return parse.Invoke(null, [text, CultureInfo.InvariantCulture]);
        }
        catch (TargetInvocationException e) when (e.InnerException is FormatException or ArgumentException or OverflowException)
        {
            throw new HostException($"{origin}: {(e.InnerException is ArgumentException a ? PlainMessage(a) : e.InnerException.Message)}");
        }
    }

    /// <summary>Bytes from <c>1048576</c>, <c>200MiB</c>, <c>1.5GiB</c>, <c>64k</c>; null when it is not a size.</summary>
    internal static long? ParseSize(string text)
    {
        text = text.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        long factor = 1;
        foreach (var (unit, f) in SizeUnits)
        {
            // KiB/MiB/... in any case; the one-letter nginx units k/m/g too (B alone means bytes).
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                factor = f;
                text = text[..^unit.Length].TrimEnd();
                break;
            }
        }

        if (factor == 1)
        {
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var whole) ? whole : null;
        }

        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        var bytes = number * factor;
        return bytes <= long.MaxValue ? (long)decimal.Round(bytes) : null;
    }

    /// <summary>A duration from <c>30</c> (seconds), <c>500ms</c>, <c>1.5s</c>, <c>2min</c>, <c>1h</c> or <c>00:01:30</c>; null when it is not one.</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
        }

        var seconds = 1.0;
        foreach (var (unit, s) in DurationUnits)
        {
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                seconds = s;
                text = text[..^unit.Length].TrimEnd();
                break;
            }
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number * seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(number * seconds)
            : null;
    }
}
