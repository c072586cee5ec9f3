using System.Buffers;
using System.Text;
using System.Text.Json;
using Saiki.Orleans.Lake;

namespace Saiki.Orleans.Tests.Lake;

/// <summary>The writer of lake lines and Kafka envelopes against System.Text.Json, which reads them.</summary>
public sealed class JsonLineTests
{
    public static TheoryData<string> Texts => new()
    {
        "",
        "plain ascii 123",
        "2025-03-01 08:00:00.000001+00",
        "tab\there\nnewline\r\\ backslash \"quote\" 'single' <html> & +",
        "\u0000\u0001\u0008\u000C\u001F\u007F",
        "ünïcödé ελληνικά 中文 🙂",
        new string('x', 5000) + "\"" + new string('é', 3000),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Strings_ReadBackUnchanged_AndOnlyRequiredCharactersAreEscaped(string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var json = new JsonLine(buffer);
        json.StartObject();
        json.String(new JsonName("a \"name\"\n"), text);
        json.String(new JsonName("none"), null);
        json.Name(new JsonName("list"));
        json.StartArray();
        json.String(text);
        json.Number(-42);
        json.EndArray();
        json.EndObject();

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        Assert.Equal(text, doc.RootElement.GetProperty("a \"name\"\n").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("none").ValueKind);
        Assert.Equal(text, doc.RootElement.GetProperty("list")[0].GetString());
        Assert.Equal(-42, doc.RootElement.GetProperty("list")[1].GetInt32());
        var written = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.DoesNotContain("\\u002B", written);
        Assert.DoesNotContain("\\u00E9", written, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("2025-03-01T08:00:00+00:00")]
    [InlineData("2025-03-01T08:00:00.5+02:00")]
    [InlineData("2025-03-01T08:00:00.1234567-05:30")]
    [InlineData("1999-12-31T23:59:59.0000100+00:00")]
    public void Timestamps_AreWrittenAsSystemTextJsonWritesThem(string value)
    {
        var time = DateTimeOffset.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        var ours = new ArrayBufferWriter<byte>();
        new JsonLine(ours).Timestamp(time);
        var theirs = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(theirs))
        {
            writer.WriteStringValue(time);
        }
        Assert.Equal(Encoding.UTF8.GetString(theirs.WrittenSpan), Encoding.UTF8.GetString(ours.WrittenSpan));
    }
}
