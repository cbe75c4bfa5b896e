using System.Globalization;
using System.Text.RegularExpressions;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Sim;
using Meteora.Sim.Timeline;

namespace Meteora.Tests.Sim.Timeline;

/// <summary>
/// The timeline as a user sees it: <c>meteora-sim run --timeline</c> writes the page, headless
/// Chromium opens it, and the DOM its script drew is compared with the run's own history, computed
/// again in this process.
/// </summary>
public sealed partial class TimelineBrowserTests
{
    private static readonly SimOptions Small = new() { Nodes = 3, Operations = 40, Clients = 4, Keys = 6 };
    private static readonly string[] SmallArgs = ["--nodes", "3", "--ops", "40", "--clients", "4", "--keys", "6"];

    /// <summary>Planted bug read-ignores-r: seed 6 of this small run fails freshness, naming two operations.</summary>
    private static readonly string[] PlantedArgs = ["--nodes", "3", "--ops", "60", "--clients", "4", "--keys", "5", "--plant", "read-ignores-r", "--strict-percent", "100"];
    private const ulong PlantedSeed = 6;

    [Fact]
    public void A_small_run_draws_one_lane_per_node_and_one_span_per_operation()
    {
        using var dir = new TempFolder();
        string html = Path.Combine(dir.Path, "run.html");
        var (exit, stdout, stderr) = SimProcess.Run(["run", "--seed", "11", .. SmallArgs, "--timeline", html]);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains($"timeline written to {html}", stdout);
        // Self-contained: nothing to load (no src/href, no @import, no url() but the page's own #ids).
        Assert.DoesNotMatch(@"\b(src|href)\s*=|@import|url\((?!#)", File.ReadAllText(html));

        SimCluster expected = RunInProcess(11, Small);
        string dom = HeadlessChromium.DumpDom(html);
        Assert.Equal(["0", "1", "2"], Lanes(dom));
        var spans = Spans(dom);
        Assert.Equal(expected.History.Operations.Count, spans.Count);
        Assert.Equal(40, spans.Values.Count(s => s.Classes.Contains("workload")));
        foreach (OpRecord op in expected.History.Operations)
        {
            Assert.True(spans.TryGetValue(op.Id, out var span), $"op#{op.Id} not drawn");
            Assert.Contains(op.Status == ClientStatus.Ok ? "ok" : "not_found", span.Classes);
        }
        Assert.DoesNotContain(spans.Values, s => s.Classes.Contains("violating"));
        Assert.Contains("all ", Text(dom, "filter"));
    }

    [Fact]
    public void The_key_search_shows_only_operations_on_that_key()
    {
        using var dir = new TempFolder();
        string html = Path.Combine(dir.Path, "run.html");
        Assert.Equal(0, SimProcess.Run(["run", "--seed", "11", .. SmallArgs, "--timeline", html]).ExitCode);
        SimCluster expected = RunInProcess(11, Small);
        string key = expected.History.Operations[0].Key;

        string dom = HeadlessChromium.DumpDom(html, "#key=" + Uri.EscapeDataString(key));
        var drawn = Spans(dom).Keys.Order().ToList();
        var onKey = expected.History.Operations.Where(o => o.Key == key).Select(o => o.Id).Order().ToList();
        Assert.NotEmpty(onKey);
        Assert.True(onKey.Count < expected.History.Operations.Count, "the search must hide something");
        Assert.Equal(onKey, drawn);
    }

    [Fact]
    public void A_run_with_a_planted_bug_highlights_the_operations_its_violation_names()
    {
        using var dir = new TempFolder();
        string html = Path.Combine(dir.Path, "failing.html");
        var (exit, stdout, _) = SimProcess.Run(["run", "--seed", PlantedSeed.ToString(CultureInfo.InvariantCulture), .. PlantedArgs, "--timeline", html]);
        Assert.Equal(1, exit);
        string violation = stdout.Split('\n').First(l => l.StartsWith("  freshness:", StringComparison.Ordinal)).Trim();
        var named = OpIds().Matches(violation).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(2, named.Count);

        string dom = HeadlessChromium.DumpDom(html);
        var violating = Spans(dom).Values.Where(s => s.Classes.Contains("violating")).Select(s => s.Id).Order().ToList();
        Assert.Equal(named, violating);
        Assert.Contains(violation, Regex.Replace(System.Net.WebUtility.HtmlDecode(dom), @"\s+", " "));
        Assert.Contains("named", LaneClasses(dom, "0"));
        Assert.Contains("named", LaneClasses(dom, "1"));
        Assert.DoesNotContain("named", LaneClasses(dom, "2"));

        string png = Path.Combine(dir.Path, "failing.png");
        HeadlessChromium.Screenshot(html, png, 1500, 560);
        Assert.True(new FileInfo(png).Length > 10_000, "screenshot is (nearly) empty");
    }

    [Fact]
    public void Failing_run_and_sweep_print_the_timeline_command_next_to_the_replay_command()
    {
        string seed = PlantedSeed.ToString(CultureInfo.InvariantCulture);
        var run = SimProcess.Run(["run", "--seed", seed, .. PlantedArgs]);
        string replay = $"meteora-sim run --seed {seed} {string.Join(' ', PlantedArgs)}";
        Assert.Contains($"replay: {replay}\ntimeline: {replay} --timeline timeline-seed-{seed}.html\n", run.Stdout);

        var sweep = SimProcess.Run(["sweep", "--seeds", $"{seed}..{seed}", .. PlantedArgs]);
        Assert.Equal(1, sweep.ExitCode);
        Assert.Contains($"  replay: {replay}\n  timeline: {replay} --timeline timeline-seed-{seed}.html\n", sweep.Stdout);
    }

    [Fact]
    public void Recording_a_timeline_does_not_change_the_run()
    {
        var options = Small with { Faults = FaultKinds.All };
        SimResult plain = new SimCluster(5, options).Run();
        var recorder = new TimelineRecorder();
        SimResult recorded = new SimCluster(5, options) { Timeline = recorder }.Run();
        Assert.Equal(plain.TraceHash, recorded.TraceHash);
        Assert.True(recorder.MessagesSeen > 0);
        Assert.Equal(recorder.MessagesSeen, recorder.Messages.Count);
    }

    private static SimCluster RunInProcess(ulong seed, SimOptions options)
    {
        var cluster = new SimCluster(seed, options);
        Assert.True(cluster.Run().Ok);
        return cluster;
    }

    private sealed record Span(long Id, string[] Classes);

    private static Dictionary<long, Span> Spans(string dom)
    {
        var spans = new Dictionary<long, Span>();
        foreach (Match m in OpRect().Matches(dom))
        {
            long id = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(spans.TryAdd(id, new Span(id, m.Groups[1].Value.Split(' '))), $"op#{id} drawn twice");
        }
        return spans;
    }

    private static List<string> Lanes(string dom) => LaneGroup().Matches(dom).Select(m => m.Groups[2].Value).ToList();

    private static string LaneClasses(string dom, string node) => LaneGroup().Matches(dom).Single(m => m.Groups[2].Value == node).Groups[1].Value;

    private static string Text(string dom, string id) => Regex.Match(dom, $"<div id=\"{id}\">([^<]*)</div>").Groups[1].Value;

    [GeneratedRegex("<rect class=\"op ([^\"]*)\" data-op=\"(\\d+)\"")]
    private static partial Regex OpRect();

    [GeneratedRegex("<g class=\"lane([^\"]*)\" data-node=\"(\\d+)\"")]
    private static partial Regex LaneGroup();

    [GeneratedRegex(@"op#(\d+)")]
    private static partial Regex OpIds();

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("meteora-timeline-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
