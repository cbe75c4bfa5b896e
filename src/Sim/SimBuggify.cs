using Meteora.Engine.Runtime;

namespace Meteora.Sim;

/// <summary>The run's buggify decisions: which sites are on (from the schedule) and, per call, whether one fires.</summary>
internal sealed class SimBuggify(IReadOnlyList<BuggifySite> enabledSites, SimRandom random, double fireProbability) : IBuggify
{
    private readonly bool[] _enabled = ToMask(enabledSites);

    /// <summary>Switched off when the nemesis heals the cluster, so liveness is judged without injected slowness.</summary>
    public bool Active { get; set; } = true;

    public bool Fires(BuggifySite site) => Active && _enabled[(int)site] && random.Chance(fireProbability);

    private static bool[] ToMask(IReadOnlyList<BuggifySite> sites)
    {
        var mask = new bool[Enum.GetValues<BuggifySite>().Length];
        foreach (BuggifySite site in sites) mask[(int)site] = true;
        return mask;
    }
}
