using System.Text.Json;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>Every simulator run that ever failed, replayed with its exact options. It must pass now.</summary>
public sealed class RegressionCorpusTests
{
    public static TheoryData<string> Corpus()
    {
        var data = new TheoryData<string>();
        string path = Path.Combine(AppContext.BaseDirectory, "RegressionSeeds.json");
        foreach (JsonElement entry in JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray())
        {
            data.Add(entry.GetProperty("args").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Regression_run_passes(string args)
    {
        var (exit, stdout, _) = SimProcess.Run(["run", .. args.Split(' '), "--json"]);
        Assert.True(exit == 0, $"meteora-sim run {args} failed:\n{stdout}");
    }

    [Fact]
    public void Corpus_is_not_empty_and_every_entry_says_what_it_caught()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "RegressionSeeds.json");
        var entries = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("bug").GetString())));
    }
}
