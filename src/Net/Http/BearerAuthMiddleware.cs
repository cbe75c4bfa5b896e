using Meteora.Net.Security;
using Microsoft.AspNetCore.Http;

namespace Meteora.Net.Http;

/// <summary>
/// Checks <c>Authorization: Bearer TOKEN</c> against the node's tokens (<see cref="ApiTokens"/>). Every
/// refusal is the same 401, so a caller cannot tell which tokens exist or whether theirs was valid for
/// some other level.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, NodeSecurity security)
{
    private const string Scheme = "Bearer ";

    public Task InvokeAsync(HttpContext context)
    {
        ApiTokens tokens = security.Tokens;
        if (!tokens.IsEnabled) return next(context);
        AccessLevel level = AccessPolicy.For(context.Request.Path);
        string? header = context.Request.Headers.Authorization;
        bool hasBearer = header is not null && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);
        ReadOnlySpan<char> token = hasBearer ? header.AsSpan(Scheme.Length).Trim() : default;
        if (tokens.Allows(level, token, hasBearer && token.Length > 0)) return next(context);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return JsonReplies.Error(context, StatusCodes.Status401Unauthorized,
            "unauthorized: this call needs a valid token in an 'Authorization: Bearer TOKEN' header");
    }
}

/// <summary>Which token a path needs. Anything that changes the cluster (repair, membership, admin reads) is admin.</summary>
public static class AccessPolicy
{
    public static AccessLevel For(PathString path)
    {
        if (path.Equals("/meteora/health", StringComparison.OrdinalIgnoreCase) || path.Equals("/metrics", StringComparison.OrdinalIgnoreCase))
        {
            return AccessLevel.Open;
        }
        if (path.StartsWithSegments("/meteora/repair", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/meteora/admin", StringComparison.OrdinalIgnoreCase))
        {
            return AccessLevel.Admin;
        }
        return AccessLevel.Client;
    }
}
