using Meteora.Net.Http;
using Meteora.Net.Security;
using Meteora.Net.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Hosting;

/// <summary>
/// Composes one node with the generic host: configuration (appsettings.json, --config file, environment,
/// flags; later wins), console logging, DI, and one Kestrel server with two listeners — the HTTP client
/// API and the raw peer port (<see cref="PeerConnectionHandler"/>).
/// </summary>
public static class NodeHost
{
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    public static IConfiguration BuildConfiguration(string? configFile, IDictionary<string, string?> flags)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true, reloadOnChange: false);
        if (configFile is not null)
        {
            string path = Path.GetFullPath(configFile);
            if (!File.Exists(path)) throw new Cli.CliUsageException($"config file {configFile} does not exist");
            configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
        }
        return configuration
            .AddEnvironmentVariables()
            .AddInMemoryCollection(flags)
            .Build();
    }

    /// <summary>Runs the node until SIGINT/SIGTERM (or parent exit); returns the process exit code.</summary>
    public static async Task<int> RunAsync(NodeConfig config, NodeSecurity security, IConfiguration configuration)
    {
        using Runtime.NativeMemory trimming = Runtime.NativeMemory.StartTrimming();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = Directory.GetCurrentDirectory(),
            // The builder's default appsettings.json sources would watch the content root (the working
            // directory, often the parent of --data) and read an inotify event for every WAL append; the
            // node's configuration comes from BuildConfiguration, which never reloads.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        ConfigureLogging(builder.Logging, configuration);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(security);
        builder.Services.AddSingleton(sp => NodeRuntime.Create(config, security, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp =>
        {
            NodeRuntime runtime = sp.GetRequiredService<NodeRuntime>();
            return new PeerInboundContext(runtime.Loop, config.NodeId, config.Partitions, config.ReplicationFactor, () => runtime.Ring,
                security.Secret, runtime.OnJoinerAnnounced, runtime.Transport.PeerConnected);
        });
        builder.Services.AddSingleton(new HttpConnectionLimit(config.MaxHttpConnections));
        HttpLimits.AddPerClientLimiter(builder.Services, config.MaxRequestsPerClient);
        builder.WebHost.ConfigureKestrel(kestrel => KestrelListeners.Configure(kestrel, config, security));

        await using WebApplication app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<BearerAuthMiddleware>();
        HttpLimits.UsePerClientLimiter(app);
        MeteoraHttpApi.Map(app);
        Metrics.MetricsEndpoint.Map(app);

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Meteora.Node");
        WarnAboutSecurity(config, security, logger);
        NodeRuntime runtime = app.Services.GetRequiredService<NodeRuntime>();
        IHostApplicationLifetime lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration fatal = runtime.FatalStop.Token.Register(lifetime.StopApplication);
        using CancellationTokenRegistration ownStop = runtime.StopRequested.Token.Register(lifetime.StopApplication);
        if (config.ExitWithParent) WatchParent(lifetime, logger);
        PeerInboundContext inbound = app.Services.GetRequiredService<PeerInboundContext>();
        using CancellationTokenRegistration stopping = lifetime.ApplicationStopping.Register(inbound.Stop);

        runtime.Start();
        try
        {
            await app.StartAsync();
            logger.LogInformation("node {Node} serving HTTP on {Scheme}://{Host}:{HttpPort}, peers on {Host}:{PeerPort}{PeerTls}",
                config.NodeId, security.Tls is null ? "http" : "https", config.Host, config.HttpPort, config.Host, config.PeerPort,
                security.Tls is null ? "" : " (TLS)");
            await app.WaitForShutdownAsync();
        }
        finally
        {
            await runtime.StopAsync();
        }
        if (runtime.FatalStop.IsCancellationRequested) return Cli.MeteoraCli.ExitFailure;
        if (runtime.RequestedExit is { Code: Cli.MeteoraCli.ExitUsage } refused)
        {
            await Console.Error.WriteLineAsync($"meteora: node {config.NodeId} cannot join: {refused.Reason}");
        }
        return runtime.RequestedExit?.Code ?? Cli.MeteoraCli.ExitOk;
    }

    private static void WarnAboutSecurity(NodeConfig config, NodeSecurity security, ILogger logger)
    {
        foreach (string path in NodeSecurity.LooselyProtectedFiles(config))
        {
            logger.LogWarning("secret file {Path} is readable by group or others; chmod 600 it", path);
        }
        if (!security.Secret.IsConfigured)
        {
            logger.LogInformation("no cluster secret: peers are not authenticated, so this node listens on loopback only (protected mode)");
        }
    }

    public static void ConfigureLogging(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        // ASP.NET Core starts an Activity for every request while this category is enabled at any level
        // (issue 11: ~1% of a node's CPU under load, and the Activity made every histogram look up an
        // exemplar). It logs only request starts and ends, which nobody here reads.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Registered last so that a "Logging" section (or --log-level) overrides the defaults above.
        logging.AddConfiguration(configuration.GetSection("Logging"));
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
    }

    /// <summary><c>meteora cluster</c> keeps our stdin open; when it closes, the parent is gone and we stop.</summary>
    private static void WatchParent(IHostApplicationLifetime lifetime, ILogger logger)
    {
        var watcher = new Thread(() =>
        {
            try
            {
                using Stream stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (stdin.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
            }
            logger.LogInformation("parent process is gone (stdin closed); stopping");
            lifetime.StopApplication();
        })
        { IsBackground = true, Name = "meteora-parent-watch" };
        watcher.Start();
    }
}
