namespace Meteora.Tests.Net.Infrastructure;

/// <summary>A fresh directory under the system temp dir, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "meteora-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
