namespace Meteora.Nemesis;

/// <summary>Applies and heals the faults of a <see cref="FaultPlan"/> with the outside tools, on schedule.</summary>
internal sealed class FaultInjector
{
    private readonly NetworkLab _lab;
    private readonly IReadOnlyList<NodeProcess> _nodes;
    private readonly RunClock _clock;
    private readonly Action<string> _log;

    public FaultInjector(NetworkLab lab, IReadOnlyList<NodeProcess> nodes, RunClock clock, Action<string> log)
    {
        _lab = lab;
        _nodes = nodes;
        _clock = clock;
        _log = log;
    }

    public int Applied { get; private set; }

    /// <summary>Runs the plan; <paramref name="startMs"/> is the run clock's time the workload began.</summary>
    public async Task RunAsync(IReadOnlyList<FaultStep> plan, long startMs, CancellationToken stop)
    {
        foreach (FaultStep step in plan)
        {
            await DelayUntil(startMs + step.StartMs, stop);
            if (stop.IsCancellationRequested) return;
            _log($"fault #{step.Index} start: {step} for {step.DurationMs} ms");
            Apply(step);
            Applied++;
            try
            {
                if (step.Kind == FaultKind.Clock)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(step.DurationMs / 2), stop);
                    _nodes[step.Node].SetClockOffset(step.JumpToMs);
                    _log($"fault #{step.Index} clock node{step.Node} jumps to {step.JumpToMs:+#;-#;0} ms");
                    await Task.Delay(TimeSpan.FromMilliseconds(step.DurationMs - step.DurationMs / 2), stop);
                }
                else
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(step.DurationMs), stop);
                }
            }
            catch (OperationCanceledException)
            {
                // The run is ending: the final heal below and HealEverything undo it.
            }
            Heal(step);
            _log($"fault #{step.Index} healed");
        }
    }

    private async Task DelayUntil(long atMs, CancellationToken stop)
    {
        long waitMs = atMs - _clock.ElapsedMs;
        if (waitMs <= 0) return;
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(waitMs), stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Apply(FaultStep step)
    {
        switch (step.Kind)
        {
            case FaultKind.Partition:
                foreach (Cut cut in step.Cuts) NetworkLab.Apply(cut);
                break;
            case FaultKind.Kill:
                _nodes[step.Node].Kill();
                break;
            case FaultKind.Pause:
                _nodes[step.Node].Pause();
                break;
            case FaultKind.Clock:
                _nodes[step.Node].SetClockOffset(step.OffsetMs);
                break;
            case FaultKind.Disk:
                _nodes[step.Node].FillDisk();
                break;
        }
    }

    private void Heal(FaultStep step)
    {
        switch (step.Kind)
        {
            case FaultKind.Partition:
                _lab.HealAll();
                break;
            case FaultKind.Kill:
                _nodes[step.Node].Start();
                break;
            case FaultKind.Pause:
                _nodes[step.Node].Resume();
                break;
            case FaultKind.Clock:
                _nodes[step.Node].SetClockOffset(0);
                break;
            case FaultKind.Disk:
                _nodes[step.Node].FreeDisk();
                break;
        }
    }

    /// <summary>Undoes every fault whatever state the run ended in: no rule, no pause, no offset, no ballast, every node running.</summary>
    public void HealEverything()
    {
        _lab.HealAll();
        foreach (NodeProcess node in _nodes)
        {
            node.Resume();
            node.SetClockOffset(0);
            node.FreeDisk();
            if (node.HasExited) node.Start();
        }
    }
}
