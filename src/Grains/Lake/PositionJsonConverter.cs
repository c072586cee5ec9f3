using System.Text.Json;
using System.Text.Json.Serialization;
using Saiki.Orleans.Changes;

namespace Saiki.Orleans.Lake;

/// <summary>Writes positions as their 24-digit key form in JSON (manifest objects and the REST API).</summary>
public sealed class PositionJsonConverter : JsonConverter<Position>
{
    public override Position Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Position.ParseKey(reader.GetString() ?? throw new JsonException("position must be a string"));

    public override void Write(Utf8JsonWriter writer, Position value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToKey());
}
