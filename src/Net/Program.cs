namespace Meteora.Net;

public static class Program
{
    public static int Main(string[] args)
    {
        using Runtime.NativeMemory trimming = Runtime.NativeMemory.StartTrimming();
        return Cli.MeteoraCli.Run(args);
    }
}
