using System.Text;
using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Hosting;

/// <summary>Secrets for column privacy rules. Section <c>Saiki:Privacy</c>; never logged.</summary>
public sealed class PrivacyOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Saiki:Privacy";
    /// <summary>Shortest accepted hash key.</summary>
    public const int MIN_HASH_KEY_LENGTH = 16;

    /// <summary>Key of the HMAC-SHA256 that hashed columns use; needed only by sources with hash rules. Keep it
    /// stable: a new key gives every value a new hash.</summary>
    public string? HashKey { get; set; }

    /// <summary>The key as bytes, or null when none is configured.</summary>
    public byte[]? HashKeyBytes => string.IsNullOrEmpty(HashKey) ? null : Encoding.UTF8.GetBytes(HashKey);
}

internal sealed class PrivacyOptionsValidator : IValidateOptions<PrivacyOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivacyOptions o) =>
        o.HashKey is { Length: > 0 and < PrivacyOptions.MIN_HASH_KEY_LENGTH }
            ? ValidateOptionsResult.Fail($"{PrivacyOptions.Section}:HashKey is too short; use at least {PrivacyOptions.MIN_HASH_KEY_LENGTH} characters")
            : ValidateOptionsResult.Success;
}
