namespace RocketOwin.Host;

internal static class Program
{
    private static int Main(string[] args) => RocketCommand.Run(args, Console.Out, Console.Error);
}
