using System.Globalization;
using System.Text.Json;

namespace RocketOwin.Host;

/// <summary>
/// Reads <c>rocket.json</c>: the same settings as the flags, e.g.
/// <c>{ "method": "static", "bind": ["127.0.0.1:8080"], "root": "public", "set": { "display_index": true } }</c>.
/// Paths (<c>root</c>, <c>app</c>, <c>plugins</c>) are relative to the file's folder. Unknown keys are errors, so a
/// typo never passes silently.
/// </summary>
internal static class ConfigFile
{
    private static readonly string[] Keys = ["method", "bind", "root", "upstream", "app", "set", "minThreads", "maxThreads", "queueSize", "timeout", "plugins", "clientCertificates", "limits", "status", "accessLog"];

    /// <exception cref="HostException">The file is missing, is not JSON, or holds a wrong key or value; the message names it.</exception>
    public static HostSettings Read(string path)
    {
        var full = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HostException($"--config {path}: cannot read the file ({e.Message})");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new HostException($"{path}: not valid JSON ({e.Message})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new HostException($"{path}: expected a JSON object of settings.");
            }

            var baseDirectory = Path.GetDirectoryName(full)!;
            var reader = new Reader(path, baseDirectory);
            var settings = new HostSettings();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = Keys.FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase))
                    ?? throw new HostException($"{path}: unknown setting '{property.Name}'{Internal.Spelling.DidYouMean(property.Name, Keys)} (known: {string.Join(", ", Keys)}).");
                var v = property.Value;
                settings = key switch
                {
                    "method" => settings with { Method = reader.String(key, v) },
                    "bind" => settings with { Bind = reader.Strings(key, v) },
                    "root" => settings with { Root = reader.Path(key, v) },
                    "upstream" => settings with { Upstream = reader.Strings(key, v) },
                    "app" => settings with { App = reader.Path(key, v) },
                    "set" => settings with { Set = reader.AppInfo(key, v) },
                    "limits" => settings with { Limits = reader.Limits(key, v) },
                    "status" => settings with { Status = reader.String(key, v) },
                    "accessLog" => reader.AccessLog(settings, key, v),
                    "minThreads" => settings with { MinThreads = reader.Int(key, v) },
                    "maxThreads" => settings with { MaxThreads = reader.Int(key, v) },
                    "queueSize" => settings with { QueueSize = reader.Int(key, v) },
                    "timeout" => settings with { Timeout = reader.Int(key, v) },
                    "clientCertificates" => settings with { ClientCertificates = reader.Bool(key, v) },
                    _ => settings with { Plugins = reader.Path(key, v) },
                };
            }

            // Where each appInfo key came from, so an error names what the user wrote in this file.
            var origins = settings.Set.Keys.ToDictionary(k => k, k => $"{path}: set.{k}", StringComparer.OrdinalIgnoreCase);
            foreach (var (key, appInfoKey) in new[] { ("root", "document_root"), ("upstream", "upstream"), ("app", "app") })
            {
                if (document.RootElement.EnumerateObject().Any(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase)))
                {
                    origins[appInfoKey] = $"{path}: {key}";
                }
            }

            return settings with { Origins = origins, ConfigFile = full };
        }
    }

    private sealed class Reader(string file, string baseDirectory)
    {
        public string String(string key, JsonElement value)
            => value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Wrong(key, value, "a string");

        public string Path(string key, JsonElement value) => System.IO.Path.GetFullPath(String(key, value), baseDirectory);

        public bool Bool(string key, JsonElement value)
            => value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(key, value, "true or false"),
            };

        public int Int(string key, JsonElement value)
            => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : throw Wrong(key, value, "a whole number");

        public List<string> Strings(string key, JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array => value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(key, e, "a string in the list")).ToList(),
            _ => throw Wrong(key, value, "a string or a list of strings"),
        };

        public Dictionary<string, object?> AppInfo(string key, JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(key, value, "an object of appInfo keys and values");
            }

            var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in value.EnumerateObject())
            {
                result[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    JsonValueKind.Array => Strings($"{key}.{p.Name}", p.Value),
                    _ => throw Wrong($"{key}.{p.Name}", p.Value, "a string, number, boolean or list of strings"),
                };
            }

            return result;
        }

        public List<LimitSetting> Limits(string key, JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(key, value, "an object of limits, e.g. { \"MaxRequestBodySize\": \"200MiB\" }");
            }

            return value.EnumerateObject().Select(p => new LimitSetting(
                p.Name,
                p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                    JsonValueKind.Null => "none",
                    _ => throw Wrong($"{key}.{p.Name}", p.Value, "a number, a string such as \"200MiB\" or \"30s\", or null"),
                },
                $"{file}: {key}.{p.Name}")).ToList();
        }

        /// <summary><c>"accessLog": "access.log"</c>, or <c>{ "path": "access.log", "rotate": "100MiB", "keep": 10 }</c>.</summary>
        public HostSettings AccessLog(HostSettings settings, string key, JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                return settings with { AccessLog = Path(key, value) };
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(key, value, "a file path, or an object with path, rotate and keep");
            }

            foreach (var p in value.EnumerateObject())
            {
                settings = p.Name switch
                {
                    "path" => settings with { AccessLog = Path($"{key}.path", p.Value) },
                    "rotate" => settings with { AccessLogRotate = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetRawText() : String($"{key}.rotate", p.Value) },
                    "keep" => settings with { AccessLogKeep = Int($"{key}.keep", p.Value) },
                    _ => throw new HostException($"{file}: unknown setting '{key}.{p.Name}' (known: path, rotate, keep)."),
                };
            }

            return settings.AccessLog is null ? throw new HostException($"{file}: '{key}' needs a path.") : settings;
        }

        private HostException Wrong(string key, JsonElement value, string expected)
            => new(string.Create(CultureInfo.InvariantCulture, $"{file}: '{key}' is {value.GetRawText()}; expected {expected}."));
    }
}
