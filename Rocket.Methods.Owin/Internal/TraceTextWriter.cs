using System.Text;
using NLog;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>host.TraceOutput: lines written by the application go to the NLog logger <c>Rocket.Owin.Trace</c> at Info.</summary>
internal sealed class TraceTextWriter : TextWriter
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Owin.Trace");
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>A writer safe to share between concurrent requests.</summary>
    public static TextWriter Create() => Synchronized(new TraceTextWriter());

    public override void Write(char value)
    {
        if (value == '\n')
        {
            Flush();
        }
        else if (value != '\r')
        {
            _line.Append(value);
        }
    }

    public override void Flush()
    {
        if (_line.Length > 0)
        {
            Log.Info(_line.ToString());
            _line.Clear();
        }
    }
}
