using System.Text;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>A GitHub-flavoured Markdown table; headers starting with '>' are right-aligned.</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers.Select(h => h.TrimStart('>'))).AppendLine(" |");
        text.Append('|').AppendJoin('|', headers.Select(h => h.StartsWith('>') ? "---:" : "---")).AppendLine("|");
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }
        return text.ToString();
    }
}
