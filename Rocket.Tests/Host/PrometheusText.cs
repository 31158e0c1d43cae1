using System.Globalization;
using System.Text.RegularExpressions;

namespace RocketOwin.Tests.Host;

/// <summary>A small parser of the Prometheus text exposition format (0.0.4): families with HELP and TYPE, samples with labels.</summary>
public sealed partial class PrometheusText
{
    public Dictionary<string, string> Types { get; } = [];

    public Dictionary<string, string> Help { get; } = [];

    public List<(string Name, Dictionary<string, string> Labels, double Value)> Samples { get; } = [];

    /// <exception cref="FormatException">A line is not valid exposition format.</exception>
    public static PrometheusText Parse(string text)
    {
        var result = new PrometheusText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                if (comment.Success)
                {
                    (comment.Groups[1].Value == "TYPE" ? result.Types : result.Help)[comment.Groups[2].Value] = comment.Groups[3].Value;
                }

                continue;
            }

            var sample = SampleLine().Match(line);
            if (!sample.Success)
            {
                throw new FormatException("Not a Prometheus sample line: " + line);
            }

            var labels = new Dictionary<string, string>();
            foreach (Match label in LabelPair().Matches(sample.Groups["labels"].Value))
            {
                labels[label.Groups[1].Value] = Regex.Unescape(label.Groups[2].Value);
            }

            var value = sample.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            result.Samples.Add((sample.Groups["name"].Value, labels, value));
        }

        return result;
    }

    /// <summary>The value of the one sample named <paramref name="name"/> with the given label (or no labels).</summary>
    public double Value(string name, string? label = null, string? labelValue = null)
        => Samples.Single(s => s.Name == name && (label is null ? s.Labels.Count == 0 : s.Labels.GetValueOrDefault(label) == labelValue)).Value;

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)(?: -?\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
