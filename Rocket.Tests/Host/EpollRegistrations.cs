using System.Globalization;

namespace RocketOwin.Tests.Host;

/// <summary>
/// A process's epoll registrations as Linux shows them (/proc/PID/fdinfo of each eventpoll descriptor): the proof that
/// Rocket's loop serves a process now that it has no thread of its own (it runs on the monitor's thread).
/// </summary>
public static class EpollRegistrations
{
    private const uint EpollRdHup = 0x2000;

    /// <summary>
    /// Registrations with EPOLLRDHUP (Rocket's loop, which registers both sides) and without it (the runtime's engine:
    /// EPOLLIN|EPOLLOUT|EPOLLET); eventfds (Rocket's loop's wake-up) are counted in neither.
    /// </summary>
    public static (int Loop, int Engine) Count(int pid)
    {
        var (loop, engine) = (0, 0);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            string[] lines;
            try
            {
                if (new FileInfo(fd).LinkTarget != "anon_inode:[eventpoll]")
                {
                    continue;
                }

                lines = File.ReadAllLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}");
            }
            catch (IOException)
            {
                continue; // closed between the listing and the read
            }

            // "tfd:       12 events:       19 data: ..." (events in hex)
            foreach (var line in lines.Where(l => l.StartsWith("tfd:", StringComparison.Ordinal)))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (Target(pid, fields[1]) == "anon_inode:[eventfd]")
                {
                    continue;
                }

                var events = uint.Parse(fields[Array.IndexOf(fields, "events:") + 1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if ((events & EpollRdHup) != 0)
                {
                    loop++;
                }
                else
                {
                    engine++;
                }
            }
        }

        return (loop, engine);
    }

    private static string? Target(int pid, string fd)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
