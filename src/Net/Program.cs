namespace Meteora.Net;

public static class Program
{
    public static int Main(string[] args) => Cli.MeteoraCli.Run(args);
}
