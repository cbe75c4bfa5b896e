using System.Net;
using System.Net.Sockets;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>Loopback ports the OS reports free, never handed out twice in this test run (tests never use 9000/7000).</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Given = new();
    private static readonly Lock Gate = new();

    public static int[] Take(int count)
    {
        var ports = new int[count];
        var listeners = new List<TcpListener>();
        lock (Gate)
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    int port;
                    do
                    {
                        var listener = new TcpListener(IPAddress.Loopback, 0);
                        listener.Start();
                        listeners.Add(listener);
                        port = ((IPEndPoint)listener.LocalEndpoint).Port;
                    }
                    while (!Given.Add(port));
                    ports[i] = port;
                }
            }
            finally
            {
                foreach (TcpListener listener in listeners) listener.Stop();
            }
        }
        return ports;
    }

    /// <summary>A base port with <paramref name="count"/> consecutive free ports after it (for `meteora cluster`).</summary>
    public static int TakeConsecutive(int count)
    {
        lock (Gate)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                int basePort = Random.Shared.Next(20_000, 60_000);
                bool free = true;
                for (int p = basePort; p < basePort + count && free; p++)
                {
                    free = !Given.Contains(p) && IsFree(p);
                }
                if (!free) continue;
                for (int p = basePort; p < basePort + count; p++) Given.Add(p);
                return basePort;
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
