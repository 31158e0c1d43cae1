using System.Globalization;

namespace RocketOwin;

/// <summary>
/// Rocket's <c>app_info</c>: the settings a method's <see cref="Worker"/> reads (for example
/// <c>owin_app</c>, <c>document_root</c>, <c>upstream</c>). Keys are case-insensitive. Values are whatever
/// the method documents: strings from the command line or a config file, or objects from code.
/// </summary>
/// <remarks>Read by workers during <see cref="Worker.Initialize"/>; not meant to be changed while serving.</remarks>
public sealed class AppInfo : Dictionary<string, object?>
{
    /// <summary>Creates an empty AppInfo.</summary>
    public AppInfo()
        : base(StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <summary>Creates an AppInfo holding a copy of <paramref name="values"/>.</summary>
    public AppInfo(IEnumerable<KeyValuePair<string, object?>> values)
        : base(values, StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <summary>Reads a string setting; a non-string value is converted with the invariant culture.</summary>
    public string? GetString(string key, string? defaultValue = null)
        => TryGetValue(key, out var value) && value is not null
            ? Convert.ToString(value, CultureInfo.InvariantCulture)
            : defaultValue;

    /// <summary>Reads a boolean: true/false, yes/no, on/off, 1/0 (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The value is present but not a boolean; the message names the key and the value.</exception>
    public bool GetBoolean(string key, bool defaultValue)
    {
        if (!TryGetValue(key, out var value) || value is null)
        {
            return defaultValue;
        }

        if (value is bool b)
        {
            return b;
        }

        return (Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty).Trim().ToUpperInvariant() switch
        {
            "TRUE" or "YES" or "ON" or "1" => true,
            "FALSE" or "NO" or "OFF" or "0" => false,
            _ => throw Invalid(key, value, "a boolean (true/false, yes/no, on/off, 1/0)"),
        };
    }

    /// <summary>Reads an integer within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <exception cref="ArgumentException">The value is not an integer or is out of range; the message names the key and the value.</exception>
    public long GetInt64(string key, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!TryGetValue(key, out var value) || value is null)
        {
            return defaultValue;
        }

        long result;
        try
        {
            result = value is string s
                ? long.Parse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture)
                : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw Invalid(key, value, "an integer", e);
        }

        if (result < min || result > max)
        {
            throw Invalid(key, value, $"an integer from {min} to {max}");
        }

        return result;
    }

    /// <summary>Reads a duration: a <see cref="TimeSpan"/>, or a number of seconds (fractions allowed).</summary>
    /// <exception cref="ArgumentException">The value is not a non-negative duration; the message names the key and the value.</exception>
    public TimeSpan GetDuration(string key, TimeSpan defaultValue)
    {
        if (!TryGetValue(key, out var value) || value is null)
        {
            return defaultValue;
        }

        if (value is TimeSpan ts)
        {
            return ts >= TimeSpan.Zero ? ts : throw Invalid(key, value, "a non-negative duration");
        }

        if (double.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0 && double.IsFinite(seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        throw Invalid(key, value, "a non-negative number of seconds");
    }

    /// <summary>Reads a list: an enumerable of strings, or one string split on commas (blank entries dropped).</summary>
    public IReadOnlyList<string> GetList(string key, IReadOnlyList<string> defaultValue)
    {
        if (!TryGetValue(key, out var value) || value is null)
        {
            return defaultValue;
        }

        if (value is string s)
        {
            return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        if (value is System.Collections.IEnumerable items)
        {
            var list = new List<string>();
            foreach (var item in items)
            {
                var text = Convert.ToString(item, CultureInfo.InvariantCulture);
                if (!string.IsNullOrWhiteSpace(text))
                {
                    list.Add(text.Trim());
                }
            }

            return list;
        }

        throw Invalid(key, value, "a list of strings");
    }

    /// <summary>
    /// Builds the error every typed getter throws: it names the key, the value and what was expected. Its
    /// <see cref="ArgumentException.ParamName"/> is the key and <c>Data["expected"]</c> what was expected, so a host can
    /// word the error in its own terms (the rocket command names the flag the user typed).
    /// </summary>
    public static ArgumentException Invalid(string key, object? value, string expected, Exception? inner = null)
    {
        var e = new ArgumentException($"appInfo[\"{key}\"] = {Describe(value)} is not valid: expected {expected}.", key, inner);
        e.Data[ExpectedDataKey] = expected;
        return e;
    }

    /// <summary>The <see cref="Exception.Data"/> key under which <see cref="Invalid"/> keeps what was expected.</summary>
    internal const string ExpectedDataKey = "expected";

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        _ => $"{Convert.ToString(value, CultureInfo.InvariantCulture)} ({value.GetType().Name})",
    };
}
