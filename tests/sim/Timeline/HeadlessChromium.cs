using Meteora.Tests.Tools;

namespace Meteora.Tests.Sim.Timeline;

/// <summary>
/// Debian's Chromium, headless, as a user's browser: <c>--dump-dom</c> gives the page's DOM after its
/// scripts ran, <c>--screenshot</c> a PNG. The flags keep it off the network (this machine has none
/// but the package registries) and a fresh profile directory per call keeps runs independent.
/// </summary>
internal static class HeadlessChromium
{
    private const int TimeoutMs = 60_000;

    public static string DumpDom(string htmlPath, string fragment = "") =>
        Run(["--dump-dom", Url(htmlPath, fragment)]).Stdout;

    public static void Screenshot(string htmlPath, string pngPath, int widthPx, int heightPx) =>
        Run([$"--screenshot={pngPath}", $"--window-size={widthPx},{heightPx}", "--hide-scrollbars", Url(htmlPath, "")]);

    private static string Url(string htmlPath, string fragment) => new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri + fragment;

    private static ToolResult Run(string[] args)
    {
        string chromium = ExternalTool.Require("chromium", "chromium");
        string profile = Directory.CreateTempSubdirectory("meteora-chromium-").FullName;
        try
        {
            string[] flags =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile}",
            ];
            ToolResult result = ExternalTool.Run(chromium, [.. flags, .. args], timeoutMs: TimeoutMs);
            if (result.ExitCode != 0) throw new InvalidOperationException($"chromium exited {result.ExitCode}: {result.Stderr}");
            return result;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
