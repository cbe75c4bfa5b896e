using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Coordination;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

/// <summary>
/// The quorum cores against a naive model: every check recomputes the expected state from the full
/// list of events seen so far (first answer per replica wins), with no incremental state.
/// </summary>
public sealed class QuorumTests
{
    public enum Kind { Ok, Fail, Reply, Timeout }

    /// <summary>One input to a core. Ok/Fail are write answers, Reply/Fail read answers.</summary>
    public sealed record Ev(Kind Kind, int Index, StoredValue? Value = null)
    {
        public override string ToString() => Kind switch
        {
            Kind.Timeout => "T",
            Kind.Reply when Value is null => $"r{Index}=none",
            Kind.Reply => $"r{Index}=({Value.Version},{(Value.IsTombstone ? "tomb" : string.Join("", Value.Value!))})",
            _ => $"{Kind}{Index}".ToLowerInvariant(),
        };
    }

    public sealed record WriteCase(int N, int W, Ev[] Events)
    {
        public override string ToString() => $"N={N} W={W} [{string.Join(" ", Events.AsEnumerable())}]";
    }

    public sealed record ReadCase(int N, int R, Ev[] Events)
    {
        public override string ToString() => $"N={N} R={R} [{string.Join(" ", Events.AsEnumerable())}]";
    }

    private static readonly Func<StoredValue, StoredValue, bool> Newer = (a, b) => Lww.Compare(a, b) > 0;

    // ---- generators: small domains, frequent duplicates (a third of indices come from 0..2) ----

    private static Gen<int> Index(int n) =>
        Gen.Frequency((2, Gen.Choose(0, n - 1)), (1, Gen.Choose(0, Math.Min(n - 1, 2))));

    private static Gen<StoredValue?> Value() =>
        from ts in Gen.Choose(0, 5)
        from node in Gen.Choose(0, 3)
        from tombstone in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from b in Gen.Choose(0, 2)
        select (StoredValue?)new StoredValue(new WriteVersion(ts, (uint)node), tombstone ? null : [(byte)b]);

    private static Gen<Ev> WriteEvent(int n) => Gen.Frequency(
        (12, Index(n).Select(i => new Ev(Kind.Ok, i))),
        (7, Index(n).Select(i => new Ev(Kind.Fail, i))),
        (1, Gen.Constant(new Ev(Kind.Timeout, 0))));

    private static Gen<Ev> ReadEvent(int n) => Gen.Frequency(
        (12, from i in Index(n)
             from v in Gen.Frequency((1, Gen.Constant<StoredValue?>(null)), (5, Value()))
             select new Ev(Kind.Reply, i, v)),
        (7, Index(n).Select(i => new Ev(Kind.Fail, i))),
        (1, Gen.Constant(new Ev(Kind.Timeout, 0))));

    private static Gen<(int N, int Q, Ev[] Events)> Case(Func<int, Gen<Ev>> ev) =>
        from n in Gen.Choose(1, 16)
        from q in Gen.Choose(1, n)
        from len in Gen.Choose(0, 40)
        from events in Gen.ArrayOf(ev(n), len)
        select (n, q, events);

    /// <summary>Shrinks by dropping one event, so a counterexample comes out short.</summary>
    private static IEnumerable<Ev[]> DropOne(Ev[] events) =>
        Enumerable.Range(0, events.Length).Select(i => events.Where((_, j) => j != i).ToArray());

    public static Arbitrary<WriteCase> WriteCases() =>
        Arb.From(Case(WriteEvent).Select(c => new WriteCase(c.N, c.Q, c.Events)),
            c => DropOne(c.Events).Select(e => c with { Events = e }));

    public static Arbitrary<ReadCase> ReadCases() =>
        Arb.From(Case(ReadEvent).Select(c => new ReadCase(c.N, c.Q, c.Events)),
            c => DropOne(c.Events).Select(e => c with { Events = e }));

    // ---- the naive model: recompute everything from a prefix of events ----

    /// <summary>The answers that count: the first per replica index (every one, for the wrong model).</summary>
    private static List<Ev> Answers(IEnumerable<Ev> prefix, bool countDuplicates = false)
    {
        var answers = new List<Ev>();
        foreach (Ev e in prefix.Where(e => e.Kind != Kind.Timeout))
        {
            if (countDuplicates || answers.All(a => a.Index != e.Index)) answers.Add(e);
        }
        return answers;
    }

    private static QuorumDecision WriteStatus(int n, int w, Ev[] prefix, bool countDuplicates)
    {
        List<Ev> answers = Answers(prefix, countDuplicates);
        if (answers.Count(a => a.Kind == Kind.Ok) >= w) return QuorumDecision.Ok;
        if (answers.Count(a => a.Kind == Kind.Fail) > n - w) return QuorumDecision.Unavailable;
        return prefix.Any(e => e.Kind == Kind.Timeout) ? QuorumDecision.Unavailable : QuorumDecision.Wait;
    }

    private static StoredValue? ModelNewest(Ev[] prefix) =>
        Answers(prefix).Where(a => a.Kind == Kind.Reply).Aggregate((StoredValue?)null, (m, a) => Lww.Merge(m, a.Value));

    private static QuorumDecision ReadStatus(int n, int r, Ev[] prefix)
    {
        List<Ev> answers = Answers(prefix);
        StoredValue? newest = ModelNewest(prefix);
        if (answers.Count(a => a.Kind == Kind.Reply) >= r)
        {
            return newest is null || newest.IsTombstone ? QuorumDecision.NotFound : QuorumDecision.Ok;
        }
        if (answers.Count(a => a.Kind == Kind.Fail) > n - r) return QuorumDecision.Unavailable;
        return prefix.Any(e => e.Kind == Kind.Timeout) ? QuorumDecision.Unavailable : QuorumDecision.Wait;
    }

    private static ReadRepairAction ModelRepair(Ev[] prefix)
    {
        StoredValue? newest = ModelNewest(prefix);
        if (newest is null) return default;
        uint targets = 0;
        foreach (Ev a in Answers(prefix).Where(a => a.Kind == Kind.Reply))
        {
            if (a.Value is null || Lww.Compare(newest, a.Value) > 0) targets |= 1u << a.Index;
        }
        return new ReadRepairAction(newest, targets);
    }

    /// <summary>The decision expected at event k: the status it reaches, if nothing was decided before it.</summary>
    private static QuorumDecision Expected(Func<Ev[], QuorumDecision> status, Ev[] events, int k) =>
        status(events[..k]) == QuorumDecision.Wait ? status(events[..(k + 1)]) : QuorumDecision.Wait;

    // ---- replaying a case through a core, checking against the model after every event ----

    private static void ReplayWrite(WriteCase c, bool countDuplicates = false)
    {
        var core = new WriteQuorum(c.N, c.W);
        for (int k = 0; k < c.Events.Length; k++)
        {
            Ev e = c.Events[k];
            QuorumDecision got = e.Kind == Kind.Timeout ? core.Timeout() : core.Add(e.Index, e.Kind == Kind.Ok);
            Ev[] prefix = c.Events[..(k + 1)];
            List<Ev> answers = Answers(prefix, countDuplicates);
            Assert.Equal(Expected(p => WriteStatus(c.N, c.W, p, countDuplicates), c.Events, k), got);
            Assert.Equal(answers.Count(a => a.Kind == Kind.Ok), core.Acks);
            Assert.Equal(answers.Count(a => a.Kind == Kind.Fail), core.Failures);
            Assert.Equal(answers.Count == c.N, core.AllAnswered);
            Assert.Equal(WriteStatus(c.N, c.W, prefix, countDuplicates) != QuorumDecision.Wait, core.Decided);
            core.CheckInvariants();
        }
    }

    private static void ReplayRead(ReadCase c, Func<StoredValue, StoredValue, bool> newer)
    {
        var core = new ReadQuorum(c.N, c.R, newer);
        for (int k = 0; k < c.Events.Length; k++)
        {
            Ev[] prefix = c.Events[..(k + 1)];
            List<Ev> answers = Answers(prefix);
            Assert.Equal(Expected(p => ReadStatus(c.N, c.R, p), c.Events, k), Apply(core, c.Events[k]));
            Assert.Equal(answers.Count(a => a.Kind == Kind.Reply), core.Replies);
            Assert.Equal(answers.Count(a => a.Kind == Kind.Fail), core.Failures);
            Assert.Equal(answers.Count == c.N, core.AllAnswered);
            Assert.Equal(ReadStatus(c.N, c.R, prefix) != QuorumDecision.Wait, core.Decided);
            Assert.Equal(ModelNewest(prefix), core.Newest);
            Assert.Equal(ModelRepair(prefix), core.FinalAction());
            core.CheckInvariants();
        }
    }

    private static QuorumDecision Apply(ReadQuorum core, Ev e) => e.Kind switch
    {
        Kind.Reply => core.AddReply(e.Index, e.Value),
        Kind.Fail => core.AddFailure(e.Index),
        _ => core.Timeout(),
    };

    // ---- properties ----

    [Property(Arbitrary = [typeof(QuorumTests)], MaxTest = 2000)]
    public void Write_core_matches_the_model(WriteCase c) => ReplayWrite(c);

    [Property(Arbitrary = [typeof(QuorumTests)], MaxTest = 2000)]
    public void Read_core_matches_the_model(ReadCase c) => ReplayRead(c, Newer);

    [Property(Arbitrary = [typeof(QuorumTests)], MaxTest = 1000)]
    public void Write_decides_exactly_once_when_the_timeout_closes_the_request(WriteCase c)
    {
        var core = new WriteQuorum(c.N, c.W);
        var decisions = c.Events.Select(e => e.Kind == Kind.Timeout ? core.Timeout() : core.Add(e.Index, e.Kind == Kind.Ok)).ToList();
        Assert.True(decisions.Count(d => d != QuorumDecision.Wait) <= 1);
        decisions.Add(core.Timeout());
        Assert.Single(decisions, d => d != QuorumDecision.Wait);
    }

    [Property(Arbitrary = [typeof(QuorumTests)], MaxTest = 1000)]
    public void Read_decides_exactly_once_when_the_timeout_closes_the_request(ReadCase c)
    {
        var core = new ReadQuorum(c.N, c.R, Newer);
        var decisions = c.Events.Select(e => Apply(core, e)).ToList();
        Assert.True(decisions.Count(d => d != QuorumDecision.Wait) <= 1);
        decisions.Add(core.Timeout());
        Assert.Single(decisions, d => d != QuorumDecision.Wait);
    }

    // ---- explicit checks ----

    [Fact]
    public void All_required_and_one_failure_is_unavailable_at_once()
    {
        for (int n = 1; n <= 16; n++)
        {
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(QuorumDecision.Unavailable, new ReadQuorum(n, n, Newer).AddFailure(i));
                Assert.Equal(QuorumDecision.Unavailable, new WriteQuorum(n, n).Add(i, ok: false));
            }
        }
    }

    [Fact]
    public void Arguments_outside_their_ranges_throw()
    {
        for (int n = -2; n <= 18; n++)
        {
            for (int q = -2; q <= 18; q++)
            {
                bool valid = n is >= 1 and <= 16 && q >= 1 && q <= n;
                if (!valid)
                {
                    Assert.Throws<ArgumentOutOfRangeException>(() => new WriteQuorum(n, q));
                    Assert.Throws<ArgumentOutOfRangeException>(() => new ReadQuorum(n, q, Newer));
                    continue;
                }
                foreach (int i in new[] { -1, n, n + 1, int.MinValue, int.MaxValue })
                {
                    Assert.Throws<ArgumentOutOfRangeException>(() => new WriteQuorum(n, q).Add(i, ok: true));
                    Assert.Throws<ArgumentOutOfRangeException>(() => new ReadQuorum(n, q, Newer).AddReply(i, null));
                    Assert.Throws<ArgumentOutOfRangeException>(() => new ReadQuorum(n, q, Newer).AddFailure(i));
                }
            }
        }
    }

    // ---- the properties can fail: wrong variants are caught ----

    [Fact]
    public void A_model_that_counts_duplicates_is_caught()
    {
        var check = () => Check.One(Config.QuickThrowOnFailure.WithMaxTest(500).WithQuietOnSuccess(true),
            Prop.ForAll(WriteCases(), c => ReplayWrite(c, countDuplicates: true)));
        Assert.Contains("Falsifiable", Assert.ThrowsAny<Exception>(check).Message);

        // Concrete: N=3 W=2, replica 0 acks twice. The core waits; the wrong model says Ok.
        var dup = new WriteCase(3, 2, [new Ev(Kind.Ok, 0), new Ev(Kind.Ok, 0)]);
        Assert.Equal(QuorumDecision.Wait, Expected(p => WriteStatus(3, 2, p, false), dup.Events, 1));
        Assert.Equal(QuorumDecision.Ok, Expected(p => WriteStatus(3, 2, p, true), dup.Events, 1));
        Assert.ThrowsAny<Exception>(() => ReplayWrite(dup, countDuplicates: true));
    }

    [Fact]
    public void A_read_core_with_the_lww_order_swapped_is_caught()
    {
        var check = () => Check.One(Config.QuickThrowOnFailure.WithMaxTest(500).WithQuietOnSuccess(true),
            Prop.ForAll(ReadCases(), c => ReplayRead(c, (a, b) => Lww.Compare(a, b) < 0)));
        Assert.Contains("Falsifiable", Assert.ThrowsAny<Exception>(check).Message);
    }
}
