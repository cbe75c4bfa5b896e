using System.Text;

namespace Meteora.Net.Security;

/// <summary>
/// Reads a secret (cluster secret, API or admin token) from a file, so it never appears in the process
/// list. Surrounding whitespace is trimmed (files usually end in a newline). Problems throw
/// <see cref="Cli.CliUsageException"/> naming the setting and the file, never the secret.
/// </summary>
public static class SecretFile
{
    /// <summary>Shorter secrets are guessable; 16 bytes is also what `openssl rand -hex 8` prints.</summary>
    public const int MinSecretBytes = 16;

    /// <summary>Anything longer is not a secret file (a wrong path, such as a log or a database).</summary>
    public const int MaxSecretBytes = 4096;

    public static byte[] Read(string path, string settingName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new Cli.CliUsageException($"{settingName}: file {path} does not exist");
        var info = new FileInfo(path);
        if (info.Length > MaxSecretBytes)
        {
            throw new Cli.CliUsageException($"{settingName}: file {path} is {info.Length} bytes, a secret file holds at most {MaxSecretBytes}");
        }
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Cli.CliUsageException($"{settingName}: cannot read {path}: {e.Message}");
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length < MinSecretBytes)
        {
            throw new Cli.CliUsageException($"{settingName}: the secret in {path} is {bytes.Length} bytes, at least {MinSecretBytes} are required");
        }
        return bytes;
    }

    /// <summary>True when group or others may read the file (worth a warning: the secret is as safe as the file).</summary>
    public static bool IsReadableByOthers(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        UnixFileMode mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;
    }

    /// <summary>Writes a fresh random secret (64 hex characters) readable by its owner only.</summary>
    public static void CreateRandom(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(secret + "\n"));
    }
}
