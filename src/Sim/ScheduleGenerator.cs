using System.Globalization;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;

namespace Meteora.Sim;

/// <summary>
/// Draws a run's <see cref="Schedule"/> from its seed: the workload on the "workload-plan" stream and
/// each fault kind on a stream of its own, so turning one kind on does not change the others.
/// </summary>
public static class ScheduleGenerator
{
    public static Schedule Generate(ulong seed, SimOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ops = GenerateOps(SimRandom.Stream(seed, "workload-plan"), SimRandom.Stream(seed, "workload-strictness"), options);
        var faults = new List<Fault>();
        long horizonMs = HorizonMs(options);
        FaultKinds kinds = options.Faults;
        if ((kinds & FaultKinds.Partition) != 0) faults.AddRange(Partitions(SimRandom.Stream(seed, "nemesis-partition"), options, horizonMs));
        if ((kinds & FaultKinds.Crash) != 0) faults.AddRange(Crashes(SimRandom.Stream(seed, "nemesis-crash"), options, horizonMs));
        if ((kinds & (FaultKinds.Drop | FaultKinds.Dup | FaultKinds.Reorder)) != 0)
        {
            faults.AddRange(LossyPeriods(SimRandom.Stream(seed, "nemesis-link"), kinds, horizonMs));
        }
        if ((kinds & FaultKinds.Disk) != 0) faults.AddRange(DiskTrouble(SimRandom.Stream(seed, "nemesis-disk"), options, horizonMs));
        if ((kinds & FaultKinds.Clock) != 0) faults.AddRange(ClockTrouble(SimRandom.Stream(seed, "nemesis-clock"), options, horizonMs));
        if ((kinds & FaultKinds.Membership) != 0) faults.AddRange(MembershipChanges(SimRandom.Stream(seed, "nemesis-membership"), options, horizonMs));
        faults.Sort((a, b) => a.AtMs.CompareTo(b.AtMs));

        var sites = new List<BuggifySite>();
        if ((kinds & FaultKinds.Buggify) != 0)
        {
            var random = SimRandom.Stream(seed, "nemesis-buggify");
            foreach (BuggifySite site in Enum.GetValues<BuggifySite>())
            {
                if (random.Chance(0.5)) sites.Add(site);
            }
        }
        return new Schedule(ops, faults, sites);
    }

    /// <summary>Roughly how long the workload runs without faults; faults are spread over it.</summary>
    public static long HorizonMs(SimOptions options) =>
        Math.Max(200, (long)options.Operations * 3 / Math.Max(1, options.Clients));

    /// <param name="strictness">Its own stream, so drawing which requests are strict left every other op of every seed unchanged.</param>
    private static List<PlannedOp> GenerateOps(SimRandom random, SimRandom strictness, SimOptions options)
    {
        var ops = new List<PlannedOp>(options.Operations);
        // One string per distinct key, shared by every operation on it (a new string per operation was
        // 100,000 objects kept for the whole run, and every check that hashes keys read each one).
        var keyNames = new string?[options.Keys];
        for (int i = 0; i < options.Operations; i++)
        {
            int roll = random.NextInt(100);
            ClientOperation operation = roll < 50 ? ClientOperation.Get : roll < 90 ? ClientOperation.Set : ClientOperation.Delete;
            int consistency = operation == ClientOperation.Get
                ? options.ReadConsistency ?? random.NextInt(1, options.ReplicationFactor)
                : options.WriteConsistency ?? random.NextInt(1, options.ReplicationFactor);
            ops.Add(new PlannedOp(
                Client: random.NextInt(options.Clients),
                Operation: operation,
                Key: KeyName(keyNames, SkewedKey(random, options.Keys)),
                Consistency: consistency,
                Coordinator: random.NextInt(options.Nodes),
                PrimaryOnly: strictness.NextInt(100) < options.StrictPercent));
        }
        return ops;
    }

    private static string KeyName(string?[] names, int index) => names[index] ??= "k" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Key index with a power-law skew (index = ⌊K·u³⌋): a few hot keys see concurrent writes (the
    /// contention LWW and quorum bugs need), while a long cold tail is rarely read, so its replicas
    /// are repaired by anti-entropy rather than by read repair.
    /// </summary>
    private static int SkewedKey(SimRandom random, int keys)
    {
        double u = random.NextDouble();
        return Math.Min(keys - 1, (int)(keys * u * u * u));
    }

    private static IEnumerable<Fault> Partitions(SimRandom random, SimOptions options, long horizonMs)
    {
        if (options.TotalNodes < 2) yield break;
        int count = random.NextInt(1, 4);
        for (int i = 0; i < count; i++)
        {
            long at = random.NextInt((int)horizonMs);
            long duration = random.NextInt(20, 600);
            int[] nodes = Shuffled(random, options.TotalNodes);
            switch (random.NextInt(3))
            {
                case 0: // random halves
                    int cut = random.NextInt(1, options.TotalNodes - 1);
                    yield return new PartitionFault(at, duration, nodes[..cut], nodes[cut..], OneWay: false);
                    break;
                case 1: // one node isolated
                    yield return new PartitionFault(at, duration, nodes[..1], nodes[1..], OneWay: false);
                    break;
                default: // one-way cut
                    int split = random.NextInt(1, options.TotalNodes - 1);
                    yield return new PartitionFault(at, duration, nodes[..split], nodes[split..], OneWay: true);
                    break;
            }
        }
    }

    private static IEnumerable<Fault> Crashes(SimRandom random, SimOptions options, long horizonMs)
    {
        int count = random.NextInt(1, 4);
        for (int i = 0; i < count; i++)
        {
            long at = random.NextInt((int)horizonMs);
            long down = random.NextInt(5, 500);
            int[] nodes = Shuffled(random, options.TotalNodes);
            int roll = random.NextInt(10);
            int crashed = roll < 4 ? 1 : roll < 7 ? Math.Max(1, (options.TotalNodes - 1) / 2) : options.TotalNodes;
            int[] victims = nodes[..crashed];
            Array.Sort(victims);
            yield return new CrashFault(at, victims, down);
        }
    }

    /// <summary>
    /// One to four ring changes: joins of the spare nodes, leaves, removals of members that then die for
    /// good; sometimes close together (the claimant refuses the second while the first runs, and the
    /// operator retries). Never fewer than N members planned; the lowest id (the claimant, and every
    /// joiner's seed) never departs: a dead claimant stops all changes and a joiner knows only its seed
    /// (docs/membership.md). At most one removal: a change whose new replicas include a second dead,
    /// not yet removed node would wait for it forever (remove dead nodes one at a time).
    /// </summary>
    private static IEnumerable<Fault> MembershipChanges(SimRandom random, SimOptions options, long horizonMs)
    {
        var members = Enumerable.Range(0, options.Nodes).ToList();
        int initialLeft = options.Nodes; // members that do not depend on a join having completed in time
        int nextJoiner = options.Nodes;
        int count = random.NextInt(1, 5);
        bool removed = false;
        long at = random.NextInt((int)Math.Max(1, horizonMs / 4));
        for (int i = 0; i < count; i++)
        {
            int roll = random.NextInt(3);
            bool canDepart = members.Count > options.ReplicationFactor;
            if ((roll == 0 || !canDepart) && nextJoiner < options.TotalNodes)
            {
                yield return new JoinFault(at, nextJoiner, members[0]);
                members.Add(nextJoiner++);
            }
            else if ((roll == 1 || removed || initialLeft <= options.ReplicationFactor) && canDepart)
            {
                int node = members[1 + random.NextInt(members.Count - 1)];
                if (node < options.Nodes) initialLeft--;
                members.Remove(node);
                yield return new LeaveFault(at, node);
            }
            else if (canDepart && initialLeft > options.ReplicationFactor)
            {
                // A removal must not need a join to have finished first: refused ("fewer than N would remain"),
                // the dead node would stay in the ring, and its partitions could never be handed off.
                int node = members[1 + random.NextInt(members.Count - 1)];
                if (node < options.Nodes) initialLeft--;
                members.Remove(node);
                removed = true;
                yield return new RemoveFault(at, node, members[random.NextInt(members.Count)]);
            }
            at += random.Chance(0.3) ? random.NextInt(1, 50) : random.NextInt(1, (int)Math.Max(2, horizonMs / 2));
        }
    }

    private static IEnumerable<Fault> LossyPeriods(SimRandom random, FaultKinds kinds, long horizonMs)
    {
        int count = random.NextInt(1, 3);
        for (int i = 0; i < count; i++)
        {
            long at = random.NextInt((int)horizonMs);
            long duration = random.NextInt(50, (int)Math.Max(51, horizonMs / 2));
            double drop = (kinds & FaultKinds.Drop) != 0 ? 0.05 + random.NextDouble() * 0.4 : 0;
            double dup = (kinds & FaultKinds.Dup) != 0 ? 0.05 + random.NextDouble() * 0.3 : 0;
            bool reorder = (kinds & FaultKinds.Reorder) != 0;
            double spike = reorder ? random.NextDouble() * 0.1 : 0;
            long jitter = reorder ? random.NextInt(500, 5_000) : 0;
            yield return new LinkFault(at, duration, Math.Round(drop, 3), Math.Round(dup, 3), Math.Round(spike, 3), jitter);
        }
    }

    private static IEnumerable<Fault> DiskTrouble(SimRandom random, SimOptions options, long horizonMs)
    {
        int count = random.NextInt(1, 4);
        for (int i = 0; i < count; i++)
        {
            long at = random.NextInt((int)horizonMs);
            long duration = random.NextInt(20, 500);
            double slow = Math.Round(random.NextDouble() * 0.5, 3);
            double fail = random.Chance(0.6) ? Math.Round(random.NextDouble() * 0.3, 3) : 0;
            yield return new DiskFault(at, duration, random.NextInt(options.Nodes), slow, fail);
        }
    }

    private static IEnumerable<Fault> ClockTrouble(SimRandom random, SimOptions options, long horizonMs)
    {
        // Every node starts with an offset and a drift; some get a coarse clock (equal timestamps).
        for (int node = 0; node < options.Nodes; node++)
        {
            long resolution = random.Chance(0.3) ? 1_000 : 1;
            yield return new ClockFault(0, node, random.NextInt(-200, 200), random.NextInt(-500, 500), resolution);
        }
        int jumps = random.NextInt(0, 3);
        for (int i = 0; i < jumps; i++)
        {
            yield return new ClockFault(random.NextInt((int)horizonMs), random.NextInt(options.Nodes),
                random.NextInt(-1_000, 1_000), random.NextInt(-500, 500), random.Chance(0.3) ? 1_000 : 1);
        }
    }

    private static int[] Shuffled(SimRandom random, int count)
    {
        int[] nodes = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (nodes[i], nodes[j]) = (nodes[j], nodes[i]);
        }
        return nodes;
    }
}
