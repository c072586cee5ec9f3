using System.Text.Json;
using System.Text.Json.Serialization;

namespace Saiki.Orleans.Silo.Api;

/// <summary>
/// Enums travel by name only. <see cref="JsonStringEnumConverter"/> also binds integers, and any integer, so
/// <c>"action": 7</c> became a column rule that neither excluded nor hashed its column: a privacy rule that failed open.
/// Names are matched without regard to case; anything else is refused naming the values allowed.
/// </summary>
internal sealed class EnumNamesConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        private static readonly string[] Names = Enum.GetNames<T>();

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = reader.GetString()!;
                if (Array.Find(Names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } name)
                {
                    return Enum.Parse<T>(name);
                }
                throw new JsonException($"\"{text}\" is not one of {string.Join(", ", Names)}");
            }
            var raw = reader.TokenType == JsonTokenType.Number ? System.Text.Encoding.UTF8.GetString(reader.ValueSpan) : reader.TokenType.ToString().ToLowerInvariant();
            throw new JsonException($"{raw} is not one of {string.Join(", ", Names)} (values are given by name)");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}

/// <summary>How a request body that is not the JSON an endpoint takes is answered.</summary>
internal static partial class ApiJson
{
    /// <summary>An error's text without the file paths of the silo's machine (they stay in its log).</summary>
    public static string WithoutPaths(string message) => FilePath().Replace(message, "(path)");

    [System.Text.RegularExpressions.GeneratedRegex(@"file://\S+|(?<![\w.:/])(?:/[^\s'"":;,()\[\]]+){2,}|\b[A-Za-z]:\\[^\s'"":;,()]+")]
    private static partial System.Text.RegularExpressions.Regex FilePath();

    /// <summary>
    /// The problem detail of a body that could not be read: the JSON path and what is wrong there
    /// (<c>$.columns[0].action: 7 is not one of Exclude, Hash</c>); no .NET type names.
    /// </summary>
    public static string Describe(BadHttpRequestException e) => e.InnerException switch
    {
        JsonException { Path: "$" } json when json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) =>
            "$: the body must be a JSON object with the endpoint's fields (see /openapi/v1.json)",
        JsonException { Path: { } path } json when json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) =>
            $"{path}: the value is not of the expected type",
        JsonException { Path: { } path } json when !json.Message.Contains(" Path: ", StringComparison.Ordinal) => $"{path}: {json.Message}",
        JsonException json => json.Message,
        _ => e.Message,
    };
}
