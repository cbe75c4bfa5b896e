namespace Meteora.Tests.Net.Infrastructure;

/// <summary>One 3-node cluster (N=3) shared by the tests of a class that do not kill nodes.</summary>
public sealed class ThreeNodeClusterFixture : IAsyncLifetime
{
    private TestCluster? _cluster;

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(3);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
