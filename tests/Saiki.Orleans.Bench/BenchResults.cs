using System.Globalization;

namespace Saiki.Orleans.Bench;

/// <summary>
/// The machine-readable outcome: every required name is printed even when its part failed (value <c>NA</c>), so a
/// consumer sees which number is missing instead of a silently shorter list; each failure adds an <c>error=</c> line.
/// </summary>
internal sealed class BenchResults(IReadOnlyList<string> required)
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly List<string> _extra = new();
    private readonly List<string> _errors = new();

    public bool Failed => _errors.Count > 0;

    public void Set(string name, double value, string format)
    {
        var text = double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "NA";
        if (!_values.ContainsKey(name) && !required.Contains(name))
        {
            _extra.Add(name);
        }
        _values[name] = text;
        Log.Info($"result {name}={text}");
    }

    public void Fail(string part, string message)
    {
        var line = $"{part}: {message}".ReplaceLineEndings(" ");
        _errors.Add(line);
        Log.Error(line);
    }

    public void Print(TextWriter output)
    {
        foreach (var name in required.Concat(_extra))
        {
            output.WriteLine($"{name}={_values.GetValueOrDefault(name, "NA")}");
        }
        foreach (var error in _errors)
        {
            output.WriteLine($"error={error}");
        }
    }
}
