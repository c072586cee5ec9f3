using Saiki.Orleans.Ingestion;

namespace Saiki.Orleans.Tests.Ingestion;

/// <summary>
/// The compatible mode compares schemas structurally: what widens is accepted, what narrows is refused naming the
/// place and the keyword, whatever the order of the JSON.
/// </summary>
public sealed class SchemaCompatibilityTests
{
    private static string Object(string properties, string extra = "") => "{\"type\":\"object\"" + extra + ",\"properties\":{" + properties + "}}";

    [Theory]
    // Widening, reordering and new optional properties pass.
    [InlineData("""{"type":["null","string"]}""", """{"type":["string","null"]}""")]
    [InlineData("""{"type":"integer"}""", """{"type":"number"}""")]
    [InlineData("""{"type":"string"}""", """{"type":["string","null"]}""")]
    [InlineData("""{"enum":["EUR","USD"]}""", """{"enum":["USD","EUR","GBP"]}""")]
    [InlineData("""{"type":"string","maxLength":10}""", """{"type":"string","maxLength":20}""")]
    [InlineData("""{"type":"string","maxLength":10}""", """{"type":"string"}""")]
    [InlineData("""{"type":"number","minimum":0}""", """{"type":"number","minimum":-5}""")]
    [InlineData("""{"type":"number","multipleOf":0.5}""", """{"type":"number","multipleOf":0.25}""")]
    [InlineData("""{"type":"string","pattern":"^a"}""", """{"pattern":"^a","type":"string"}""")]
    [InlineData("""{"const":"x"}""", """{"enum":["x","y"]}""")]
    [InlineData("""{"type":"array","items":{"type":"integer"}}""", """{"type":"array","items":{"type":"number"}}""")]
    [InlineData("""{"type":"object","additionalProperties":{"type":"string"}}""", """{"type":"object","additionalProperties":true}""")]
    [InlineData("""{"oneOf":[{"type":"string"},{"type":"integer"}]}""", """{"oneOf":[{"type":"string"},{"type":"integer"}]}""")]
    public void Widening_IsCompatible(string before, string after) =>
        Assert.Empty(SchemaCompatibilityCheck.Problems(Object($"\"a\":{before}"), Object($"\"a\":{after}")));

    [Theory]
    [InlineData("""{"type":["string","null"]}""", """{"type":"string"}""", "/a: type changes from [null, string] to string")]
    [InlineData("""{"type":"number"}""", """{"type":"integer"}""", "/a: type changes from number to integer")]
    [InlineData("""{}""", """{"type":"string"}""", "/a: accepted any value and is now constrained")]
    [InlineData("""{"enum":["EUR","USD"]}""", """{"enum":["EUR"]}""", "/a: enum drops \"USD\"")]
    [InlineData("""{"type":"string"}""", """{"type":"string","enum":["x"]}""", "/a: enum is added")]
    [InlineData("""{"type":"string"}""", """{"type":"string","const":"x"}""", "/a: const becomes \"x\"")]
    [InlineData("""{"type":"string","maxLength":20}""", """{"type":"string","maxLength":10}""", "/a: maxLength tightens from 20 to 10")]
    [InlineData("""{"type":"string"}""", """{"type":"string","minLength":1}""", "/a: minLength tightens from none to 1")]
    [InlineData("""{"type":"number","minimum":0}""", """{"type":"number","minimum":1}""", "/a: minimum tightens from 0 to 1")]
    [InlineData("""{"type":"number","exclusiveMaximum":10}""", """{"type":"number","exclusiveMaximum":9.5}""", "/a: exclusiveMaximum tightens from 10 to 9.5")]
    [InlineData("""{"type":"number","multipleOf":0.25}""", """{"type":"number","multipleOf":0.5}""", "/a: multipleOf becomes 0.5")]
    [InlineData("""{"type":"string","pattern":"^a"}""", """{"type":"string","pattern":"^ab"}""", "/a: pattern changes")]
    [InlineData("""{"type":"string"}""", """{"type":"string","format":"uuid"}""", "/a: format changes")]
    [InlineData("""{"oneOf":[{"type":"string"},{"type":"integer"}]}""", """{"oneOf":[{"type":"string"}]}""", "/a: oneOf changes")]
    [InlineData("""{"type":"array","items":{"type":"number"}}""", """{"type":"array","items":{"type":"integer"}}""", "/a/items: type changes from number to integer")]
    [InlineData("""{"type":"array"}""", """{"type":"array","items":{"type":"string"}}""", "/a: items becomes constrained")]
    [InlineData("""{"type":"array","maxItems":5}""", """{"type":"array","maxItems":4}""", "/a: maxItems tightens from 5 to 4")]
    [InlineData("""{"type":"array"}""", """{"type":"array","uniqueItems":true}""", "/a: uniqueItems becomes true")]
    [InlineData("""{"type":"object","additionalProperties":true}""", """{"type":"object","additionalProperties":{"type":"string"}}""", "/a/additionalProperties: accepted any value and is now constrained")]
    [InlineData("""{"type":"object"}""", """{"type":"object","additionalProperties":false}""", "/a: additionalProperties becomes false")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"string"}}}""", """{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}""", "/a/x: becomes required")]
    [InlineData("""{"type":"object","properties":{"x":{"type":"string"}}}""", """{"type":"object","properties":{}}""", "/a/x: removed")]
    [InlineData("""{"type":"string"}""", "false", "/a: becomes false (refuses every value)")]
    public void Narrowing_IsRefused_NamingThePlaceAndTheKeyword(string before, string after, string problem) =>
        Assert.Contains(problem, SchemaCompatibilityCheck.Problems(Object($"\"a\":{before}"), Object($"\"a\":{after}")));

    [Fact]
    public void EveryProblemIsNamed_AtOnce()
    {
        var problems = SchemaCompatibilityCheck.Problems(
            Object("""  "a":{"type":"string"},"b":{"type":"integer","minimum":0}""", ""),
            Object("""  "a":{"type":"integer"},"b":{"type":"integer","minimum":1}""", ",\"required\":[\"a\"]"));
        Assert.Equal(new[] { "/a: becomes required", "/a: type changes from string to integer", "/b: minimum tightens from 0 to 1" }, problems.Order(StringComparer.Ordinal));
    }
}
