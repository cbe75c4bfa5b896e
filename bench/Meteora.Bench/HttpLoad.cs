using System.Diagnostics;
using System.Net;
using System.Text;

namespace Meteora.Bench;

/// <summary>
/// Closed-loop HTTP load: <c>concurrency</c> workers, each sending its next request as soon as the last
/// one answered, for a fixed duration after a short warm-up. Only 2xx responses count as operations.
/// </summary>
public sealed class HttpLoad : IDisposable
{
    private readonly HttpClient _http;

    public HttpLoad(int concurrency)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
        Concurrency = concurrency;
    }

    public int Concurrency { get; }

    /// <summary>Builds the request of worker <c>w</c>'s <c>i</c>-th operation.</summary>
    public delegate HttpRequestMessage RequestFactory(int worker, long sequence);

    public async Task<PhaseResult> RunAsync(string name, RequestFactory factory, TimeSpan warmup, TimeSpan duration)
    {
        await RunWorkers(factory, warmup, recorder: null);
        var recorder = new LatencyRecorder(Concurrency);
        var clock = Stopwatch.StartNew();
        long errors = await RunWorkers(factory, duration, recorder);
        return recorder.Summarize(name, clock.Elapsed.TotalSeconds, errors);
    }

    private async Task<long> RunWorkers(RequestFactory factory, TimeSpan duration, LatencyRecorder? recorder)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long errors = 0;
        var workers = new Task[Concurrency];
        for (int w = 0; w < Concurrency; w++)
        {
            int worker = w;
            workers[w] = Task.Run(async () =>
            {
                long sequence = 0;
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    using HttpRequestMessage request = factory(worker, sequence++);
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        using HttpResponseMessage response = await _http.SendAsync(request);
                        await response.Content.ReadAsByteArrayAsync();
                        long elapsed = Stopwatch.GetTimestamp() - start;
                        if (response.IsSuccessStatusCode) recorder?.Record(worker, elapsed);
                        else Interlocked.Increment(ref errors);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            });
        }
        await Task.WhenAll(workers);
        return errors;
    }

    public static HttpRequestMessage Json(HttpMethod method, string url, string body) => new(method, url)
    {
        Content = new StringContent(body, Encoding.UTF8, "application/json"),
    };

    public void Dispose() => _http.Dispose();
}
