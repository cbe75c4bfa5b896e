using System.Text;

namespace Meteora.Engine.Node;

/// <summary>Checks of client input shared by the coordinator and the HTTP layer; each returns an error message or null.</summary>
public static class RequestValidation
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string? CheckKey(string? key)
    {
        if (key is null) return "key is missing";
        if (key.Length == 0) return "key must not be empty";
        int sizeBytes;
        try
        {
            sizeBytes = StrictUtf8.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            return "key is not valid Unicode";
        }
        return sizeBytes > Limits.MaxKeySizeBytes
            ? $"key is {sizeBytes} bytes; the limit is {Limits.MaxKeySizeBytes}"
            : null;
    }

    public static string? CheckValue(byte[]? value)
    {
        if (value is null) return "value is missing";
        return value.Length > Limits.MaxValueSizeBytes
            ? $"value is {value.Length} bytes; the limit is {Limits.MaxValueSizeBytes}"
            : null;
    }

    /// <summary>The first problem with a whole client request (key, value, operation, R/W), or null.</summary>
    public static string? Check(ClientRequest request, int consistency, int replicas)
    {
        string? error = CheckKey(request.Key);
        if (error is null && request.Operation == ClientOperation.Set) error = CheckValue(request.Value);
        if (error is null && request.Operation is not (ClientOperation.Get or ClientOperation.Set or ClientOperation.Delete))
        {
            error = $"unknown operation {request.Operation}";
        }
        return error ?? CheckConsistency(consistency, replicas, request.Operation);
    }

    /// <summary>R or W must be in 1..replicas (the key's real replica count, min(N, nodes)).</summary>
    public static string? CheckConsistency(int consistency, int replicas, ClientOperation operation)
    {
        string name = operation == ClientOperation.Get ? "readConsistency" : "writeConsistency";
        return consistency < 1 || consistency > replicas
            ? $"{name} must be in 1..{replicas}, got {consistency}"
            : null;
    }
}
