using System.Security.Cryptography;
using System.Text;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture;

/// <summary>
/// Applies a source's column rules to schemas and rows as they leave the source, for the stream and the snapshot
/// alike: excluded columns disappear, hashed columns carry an HMAC-SHA256 of the value. Without rules it passes
/// everything through untouched.
/// </summary>
public sealed class ColumnPolicy
{
    /// <summary>Type name given to hashed columns.</summary>
    public const string HashedType = "hmac-sha256";

    private readonly ILookup<string, ColumnRule> _rules;
    private readonly byte[]? _hashKey;
    private readonly Dictionary<string, Projection> _projections = new(StringComparer.Ordinal);

    /// <summary>Creates the policy of a source; <paramref name="hashKey"/> is needed only when a rule hashes.</summary>
    public ColumnPolicy(IReadOnlyList<ColumnRule>? rules, byte[]? hashKey)
    {
        _rules = (rules ?? []).ToLookup(r => r.Table, StringComparer.Ordinal);
        _hashKey = hashKey;
    }

    /// <summary>The projection of one schema version (cached).</summary>
    public Projection For(TableSchema source)
    {
        lock (_projections)
        {
            if (!_projections.TryGetValue(source.Version, out var projection))
            {
                _projections[source.Version] = projection = new Projection(source, _rules[source.Table].ToArray(), _hashKey);
            }
            return projection;
        }
    }

    /// <summary>A schema version with the rules applied, and the matching row transformation.</summary>
    public sealed class Projection
    {
        private readonly int[] _keep;
        private readonly bool[] _hash;
        private readonly byte[]? _key;
        private readonly bool _identity;

        internal Projection(TableSchema source, ColumnRule[] rules, byte[]? key)
        {
            // Fail closed: a rule whose action this code does not know must not let the column through in clear.
            if (rules.FirstOrDefault(r => !Enum.IsDefined(r.Action)) is { } unknown)
            {
                throw new ArgumentException($"column rule for {unknown.Table}.{unknown.Column} has the unknown action {(int)unknown.Action}", nameof(rules));
            }
            var excluded = rules.Where(r => r.Action == ColumnAction.Exclude).Select(r => r.Column).ToHashSet(StringComparer.Ordinal);
            var hashed = rules.Where(r => r.Action == ColumnAction.Hash).Select(r => r.Column).ToHashSet(StringComparer.Ordinal);
            _keep = Enumerable.Range(0, source.Columns.Count).Where(i => !excluded.Contains(source.Columns[i].Name)).ToArray();
            _hash = _keep.Select(i => hashed.Contains(source.Columns[i].Name)).ToArray();
            _key = key;
            _identity = _keep.Length == source.Columns.Count && !_hash.Any(h => h);
            if (_identity)
            {
                Schema = source;
                return;
            }
            var position = _keep.Select((sourceIndex, i) => (sourceIndex, i)).ToDictionary(p => p.sourceIndex, p => p.i);
            Schema = new TableSchema(
                source.Table,
                _keep.Select((c, i) => _hash[i] ? source.Columns[c] with { Type = HashedType } : source.Columns[c]).ToArray(),
                source.KeyColumns.Where(position.ContainsKey).Select(k => position[k]).ToArray());
        }

        /// <summary>The schema rows are written with.</summary>
        public TableSchema Schema { get; }

        /// <summary>A row image with the rules applied.</summary>
        public string?[]? Row(string?[]? row)
        {
            if (row is null || _identity)
            {
                return row;
            }
            var projected = new string?[_keep.Length];
            for (var i = 0; i < _keep.Length; i++)
            {
                var value = row[_keep[i]];
                projected[i] = _hash[i] && value is not null ? Hash(value) : value;
            }
            return projected;
        }

        /// <summary>Unchanged-column indexes renumbered for the projected schema.</summary>
        public IReadOnlyList<int>? Unchanged(IReadOnlyList<int>? unchanged) =>
            unchanged is null || _identity ? unchanged : unchanged.Select(u => Array.IndexOf(_keep, u)).Where(i => i >= 0).ToArray();

        /// <summary>The event with its rows projected.</summary>
        public ChangeEvent Apply(ChangeEvent change) =>
            _identity ? change : change with { Before = Row(change.Before), After = Row(change.After), Unchanged = Unchanged(change.Unchanged) };

        private string Hash(string value) => Convert.ToHexStringLower(HMACSHA256.HashData(_key!, Encoding.UTF8.GetBytes(value)));
    }
}
