using Npgsql;
using Npgsql.Replication;
using Saiki.Orleans.Changes;
using Saiki.Orleans.Sources;

namespace Saiki.Orleans.Capture.Postgres;

/// <summary>
/// Everything done to a source database over an ordinary connection: validating a registration, creating and
/// dropping the publication and slot, reading table schemas and replication lag.
/// </summary>
public static class PostgresSourceAdmin
{
    /// <summary>Largest partition count accepted per table.</summary>
    public const int MaxPartitions = 256;

    /// <summary>
    /// Returns the spec with tables qualified and <c>schema.*</c> patterns expanded, or throws
    /// <see cref="SourceValidationException"/> naming every problem.
    /// </summary>
    public static async Task<PostgresSourceSpec> ValidateAsync(PostgresSourceSpec spec, bool canHash = false, CancellationToken ct = default)
    {
        var normalized = ValidateShape(spec);
        // A database that accepts the connection and never answers is refused within the bound, so a registration
        // ends (refused, nothing created) well before its caller gives up on it.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(ValidationTimeout);
        try
        {
            return await ValidateAsync(spec, normalized, canHash, bound.Token);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            var builder = new NpgsqlConnectionStringBuilder(spec.ConnectionString);
            throw new SourceValidationException($"PostgreSQL at {builder.Host}:{builder.Port}/{builder.Database} did not answer within {ValidationTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Longest a registration's checks against the database may take.</summary>
    public static readonly TimeSpan ValidationTimeout = TimeSpan.FromSeconds(10);

    private static async Task<PostgresSourceSpec> ValidateAsync(PostgresSourceSpec spec, PostgresSourceSpec normalized, bool canHash, CancellationToken ct)
    {
        var problems = new List<string>();
        // The connect timeout too: Npgsql's own (15 s by default) would outlast the bound.
        var bounded = new NpgsqlConnectionStringBuilder(spec.ConnectionString);
        bounded.Timeout = Math.Min(bounded.Timeout, (int)ValidationTimeout.TotalSeconds);
        await using var conn = await OpenAsync(bounded.ConnectionString, ct);
        normalized = await ExpandPatternsAsync(conn, normalized, problems, ct);

        var walLevel = (string?)await Scalar(conn, "SHOW wal_level", ct);
        if (walLevel != "logical")
        {
            problems.Add($"wal_level is '{walLevel}'; set wal_level = logical in postgresql.conf and restart PostgreSQL");
        }
        var (role, canReplicate) = await RoleAsync(conn, ct);
        if (!canReplicate)
        {
            problems.Add($"role '{role}' lacks the REPLICATION attribute; run ALTER ROLE \"{role}\" REPLICATION");
        }
        foreach (var table in normalized.Tables)
        {
            var problem = await CheckTableAsync(conn, table, ct);
            if (problem is not null)
            {
                problems.Add(problem);
            }
        }
        await CheckColumnRulesAsync(conn, normalized, canHash, problems, ct);
        var slot = PostgresNames.Slot(spec.Id);
        if (await Scalar(conn, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", ct, slot) is not null)
        {
            problems.Add($"replication slot '{slot}' already exists in this database server; drop it (SELECT pg_drop_replication_slot('{slot}')) or register under another id");
        }
        if (await Scalar(conn, "SELECT 1 FROM pg_publication WHERE pubname = $1", ct, PostgresNames.Publication(spec.Id)) is not null)
        {
            problems.Add($"publication '{PostgresNames.Publication(spec.Id)}' already exists; drop it or register under another id");
        }
        if (problems.Count > 0)
        {
            throw new SourceValidationException(problems);
        }
        return normalized;
    }

    /// <summary>Checks the spec itself, before touching the database.</summary>
    /// <summary>Problems for the null items of a list field of a request (<c>name[i] is null; hint</c>).</summary>
    public static IEnumerable<string> NullItems<T>(string name, IReadOnlyList<T>? items, string hint) =>
        (items ?? []).Select((item, i) => (item, i)).Where(x => x.item is null).Select(x => $"{name}[{x.i}] is null; {hint}");

    public static PostgresSourceSpec ValidateShape(PostgresSourceSpec spec)
    {
        var problems = new List<string>();
        if (SaikiIds.Problem(IdKind.CaptureSource, spec.Id) is { } idProblem)
        {
            problems.Add(idProblem);
        }
        if (string.IsNullOrWhiteSpace(spec.ConnectionString))
        {
            problems.Add("connectionString is required");
        }
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(spec.ConnectionString);
            }
            catch (ArgumentException e)
            {
                problems.Add($"connectionString is malformed: {e.Message}");
            }
        }
        if (spec.Partitions is < 1 or > MaxPartitions)
        {
            problems.Add($"partitions is {spec.Partitions}; it must be between 1 and {MaxPartitions}");
        }
        // A null in a list is the caller's mistake, named with its place; the checks below look at the rest.
        problems.AddRange(NullItems("tables", spec.Tables, "name each table as schema.table"));
        problems.AddRange(NullItems("excludeTables", spec.ExcludeTables, "name each table as schema.table"));
        problems.AddRange(NullItems("columns", spec.Columns, "a rule is {\"table\", \"column\", \"action\"}"));
        foreach (var (rule, i) in (spec.Columns ?? []).Select((r, i) => (r, i)).Where(x => x.r is not null && (string.IsNullOrWhiteSpace(x.r.Table) || string.IsNullOrWhiteSpace(x.r.Column))))
        {
            problems.Add($"columns[{i}]: table and column are required");
        }
        spec = spec with { Tables = (spec.Tables ?? []).Where(t => t is not null).ToArray(), ExcludeTables = spec.ExcludeTables?.Where(t => t is not null).ToArray(),
            Columns = spec.Columns?.Where(r => r is not null && !string.IsNullOrWhiteSpace(r.Table) && !string.IsNullOrWhiteSpace(r.Column)).ToArray() };
        var tables = spec.Tables.Select(t => PostgresNames.QualifiedTable(t.Trim())).ToList();
        if (tables.Count == 0)
        {
            problems.Add("tables is empty; name at least one table as schema.table");
        }
        foreach (var t in tables.Where(t => !PostgresNames.QualifiedTablePattern().IsMatch(t) && !PostgresNames.SchemaPattern().IsMatch(t)))
        {
            problems.Add($"table name '{t}' is not of the form schema.table or schema.* ({PostgresNames.NameRule})");
        }
        foreach (var dup in tables.GroupBy(t => t).Where(g => g.Count() > 1))
        {
            problems.Add($"table {dup.Key} is listed more than once");
        }
        if (!Enum.IsDefined(spec.Snapshot))
        {
            problems.Add($"snapshot mode {(int)spec.Snapshot} is unknown: use {string.Join(" or ", Enum.GetNames<SnapshotMode>())}");
        }
        foreach (var rule in (spec.Columns ?? []).Where(r => !Enum.IsDefined(r.Action)))
        {
            problems.Add($"column rule for {rule.Table}.{rule.Column}: action {(int)rule.Action} is unknown: use {string.Join(" or ", Enum.GetNames<ColumnAction>())}");
        }
        var rules = (spec.Columns ?? []).Select(r => r with { Table = PostgresNames.QualifiedTable(r.Table?.Trim() ?? "") }).ToArray();
        foreach (var dup in rules.GroupBy(r => (r.Table, r.Column)).Where(g => g.Count() > 1))
        {
            problems.Add($"column {dup.Key.Table}.{dup.Key.Column} has more than one rule");
        }
        if (problems.Count > 0)
        {
            throw new SourceValidationException(problems);
        }
        return spec with
        {
            Tables = tables,
            ExcludeTables = (spec.ExcludeTables ?? []).Select(t => PostgresNames.QualifiedTable(t.Trim())).ToArray(),
            Columns = rules,
        };
    }

    private static async Task<PostgresSourceSpec> ExpandPatternsAsync(NpgsqlConnection conn, PostgresSourceSpec spec, List<string> problems, CancellationToken ct)
    {
        var excluded = (spec.ExcludeTables ?? []).ToHashSet(StringComparer.Ordinal);
        var tables = new List<string>();
        foreach (var entry in spec.Tables)
        {
            if (!entry.EndsWith(".*", StringComparison.Ordinal))
            {
                tables.Add(entry);
                continue;
            }
            var schema = entry[..^2];
            var matched = new List<string>();
            await using (var cmd = Command(conn, "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1", [schema]))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    matched.Add($"{schema}.{reader.GetString(0)}");
                }
            }
            var kept = matched.Where(t => !excluded.Contains(t)).ToArray();
            foreach (var unsafeName in kept.Where(t => !PostgresNames.QualifiedTablePattern().IsMatch(t)))
            {
                problems.Add($"{entry} matches table '{unsafeName}', whose name Saiki cannot carry ({PostgresNames.NameRule}); rename it or list it in excludeTables");
            }
            if (kept.Length == 0)
            {
                problems.Add($"{entry} matches no tables{(matched.Count > 0 ? " once excludeTables are left out" : "")}");
            }
            tables.AddRange(kept);
        }
        return spec with { Tables = tables.Distinct(StringComparer.Ordinal).Where(t => !excluded.Contains(t)).ToArray() };
    }

    private static async Task CheckColumnRulesAsync(NpgsqlConnection conn, PostgresSourceSpec spec, bool canHash, List<string> problems, CancellationToken ct)
    {
        foreach (var rule in spec.Columns ?? [])
        {
            if (!spec.Tables.Contains(rule.Table))
            {
                problems.Add($"column rule for {rule.Table}.{rule.Column}: {rule.Table} is not a captured table");
                continue;
            }
            await using var cmd = Command(conn, """
                SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey::int2[]))
                FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped
                """, [PostgresNames.QuoteQualified(rule.Table), rule.Column]);
            var isKey = await cmd.ExecuteScalarAsync(ct);
            if (isKey is null)
            {
                problems.Add($"column rule for {rule.Table}.{rule.Column}: the table has no such column");
            }
            else if (isKey is true && rule.Action == ColumnAction.Exclude)
            {
                problems.Add($"column {rule.Table}.{rule.Column} is part of the primary key and cannot be excluded; hash it instead");
            }
            if (rule.Action == ColumnAction.Hash && !canHash)
            {
                problems.Add($"column {rule.Table}.{rule.Column} is to be hashed but no hash key is configured; set Saiki:Privacy:HashKey on the silos");
            }
        }
    }

    /// <summary>
    /// Creates the publication and the slot; on failure leaves neither behind. With an initial snapshot the slot
    /// exports one: the returned export must stay open, without running another command, until every snapshot
    /// reader has imported it (or the snapshot is done).
    /// </summary>
    public static async Task<SlotExport> CreatePublicationAndSlotAsync(PostgresSourceSpec spec, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(spec.ConnectionString, ct);
        var publication = PostgresNames.Publication(spec.Id);
        var tables = string.Join(", ", spec.Tables.Select(PostgresNames.QuoteQualified));
        await Execute(conn, $"CREATE PUBLICATION {PostgresNames.Quote(publication)} FOR TABLE {tables}", ct);
        var replication = new LogicalReplicationConnection(spec.ConnectionString);
        try
        {
            await replication.Open(ct);
            var mode = spec.Snapshot == SnapshotMode.Initial ? LogicalSlotSnapshotInitMode.Export : LogicalSlotSnapshotInitMode.NoExport;
            var slot = await replication.CreatePgOutputReplicationSlot(PostgresNames.Slot(spec.Id), temporarySlot: false, slotSnapshotInitMode: mode, cancellationToken: ct);
            var export = new SlotExport((ulong)slot.ConsistentPoint, slot.SnapshotName, replication);
            if (spec.Snapshot != SnapshotMode.Initial)
            {
                await export.DisposeAsync();
            }
            return export;
        }
        catch (Exception e) when (e is PostgresException or NpgsqlException)
        {
            await replication.DisposeAsync();
            await Execute(conn, $"DROP PUBLICATION IF EXISTS {PostgresNames.Quote(publication)}", CancellationToken.None);
            var pg = e as PostgresException;
            throw new SourceValidationException($"could not create replication slot '{PostgresNames.Slot(spec.Id)}': {pg?.MessageText ?? e.Message}" +
                (pg?.SqlState == PostgresErrorCodes.ConfigurationLimitExceeded ? "; raise max_replication_slots or drop unused slots" : ""));
        }
    }

    /// <summary>Checks tables to add to a running source; throws <see cref="SourceValidationException"/> naming each problem.</summary>
    public static async Task CheckTablesAsync(string connectionString, IReadOnlyList<string> tables, CancellationToken ct)
    {
        await using var conn = await OpenAsync(connectionString, ct);
        var problems = new List<string>();
        foreach (var table in tables)
        {
            if (await CheckTableAsync(conn, table, ct) is { } problem)
            {
                problems.Add(problem);
            }
        }
        if (problems.Count > 0)
        {
            throw new SourceValidationException(problems);
        }
    }

    /// <summary>Adds tables to the source's publication: their changes enter the stream from this commit on.</summary>
    public static async Task AddToPublicationAsync(PostgresSourceSpec spec, IReadOnlyList<string> tables, CancellationToken ct)
    {
        await using var conn = await OpenAsync(spec.ConnectionString, ct);
        await Execute(conn, $"ALTER PUBLICATION {PostgresNames.Quote(PostgresNames.Publication(spec.Id))} ADD TABLE {string.Join(", ", tables.Select(PostgresNames.QuoteQualified))}", ct);
    }

    /// <summary>
    /// One incremental snapshot chunk, DBLog style: low watermark, the chunk's rows at the current (read committed)
    /// state, high watermark. The watermarks are non-transactional logical messages, so they take their place in
    /// the log exactly between the transactions that committed before and after them.
    /// </summary>
    public static async Task<(TableSchema Schema, List<string?[]> Rows)> ReadWatermarkedChunkAsync(
        string connectionString, string table, string window, long fromPage, long? toPage, CancellationToken ct)
    {
        await using var conn = await OpenAsync(connectionString, ct);
        var schema = await LoadTableSchemaAsync(conn, table, ct);
        await Execute(conn, "SELECT pg_logical_emit_message(false, $1, $2)", ct, PostgresNames.WatermarkPrefix, $"low:{window}");
        await AwaitWritersBeforeAsync(conn, table, ct);
        var rows = new List<string?[]>();
        var columns = string.Join(", ", schema.Columns.Select(c => PostgresNames.Quote(c.Name)));
        var range = $"ctid >= '({fromPage},0)'::tid" + (toPage is { } to ? $" AND ctid < '({to},0)'::tid" : "");
        using (var copy = await conn.BeginTextExportAsync($"COPY (SELECT {columns} FROM {PostgresNames.QuoteQualified(table)} WHERE {range}) TO STDOUT", ct))
        {
            while (await copy.ReadLineAsync(ct) is { } line)
            {
                rows.Add(CopyText.ParseRow(line, schema.Columns.Count));
            }
        }
        await Execute(conn, "SELECT pg_logical_emit_message(false, $1, $2)", ct, PostgresNames.WatermarkPrefix, $"high:{window}");
        return (schema, rows);
    }

    /// <summary>
    /// A transaction's commit reaches the WAL a moment before other sessions can see it. One that wrote the chunk's
    /// table and committed just before the low watermark is not between the watermarks in the log, so the select
    /// must see it. A transaction keeps its locks until after it has become visible: wait until every transaction
    /// that held a lock on the table (and a transaction id) when the watermark was written has ended. Usually at
    /// once; transactions elsewhere (another table or database, an idle session) are not waited for, and a writer of
    /// the table open for a minute makes the chunk fail and be read again later.
    /// </summary>
    private static async Task AwaitWritersBeforeAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        var relation = PostgresNames.QuoteQualified(table);
        var writers = (string[])(await Scalar(conn, """
            SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}') FROM pg_locks l
            WHERE l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.granted AND l.pid IS DISTINCT FROM pg_backend_pid()
              AND EXISTS (SELECT 1 FROM pg_locks t WHERE t.virtualtransaction = l.virtualtransaction AND t.locktype = 'transactionid' AND t.granted)
            """, ct, relation))!;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1);
        while (writers.Length > 0 && (bool)(await Scalar(conn, """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND relation = to_regclass($1) AND granted AND virtualtransaction = ANY($2))
            """, ct, relation, writers))!)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new InvalidOperationException($"a transaction that wrote {table} before the low watermark is still open after a minute; the chunk is read again later");
            }
            await Task.Delay(5, ct);
        }
    }

    /// <summary>Pages a table has now (the snapshot's chunking unit) and its file node (which a rewrite changes).</summary>
    public static async Task<(long Pages, uint FileNode)> TableStorageAsync(string connectionString, string table, CancellationToken ct)
    {
        await using var conn = await OpenAsync(connectionString, ct);
        return await TableStorageAsync(conn, table, ct);
    }

    /// <summary>Pages and file node, on an open connection (read from the current catalog).</summary>
    public static async Task<(long Pages, uint FileNode)> TableStorageAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        await using var cmd = Command(conn, "SELECT pg_relation_size(r) / current_setting('block_size')::bigint, pg_relation_filenode(r) FROM to_regclass($1) r", [PostgresNames.QuoteQualified(table)]);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && !reader.IsDBNull(1) ? (reader.GetInt64(0), reader.GetFieldValue<uint>(1)) : (0, 0);
    }

    /// <summary>Schema of a table by name, columns in the order pgoutput and COPY use (generated columns excluded).</summary>
    public static async Task<TableSchema> LoadTableSchemaAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        var columns = new List<(string, uint, int)>();
        uint oid = 0;
        await using (var cmd = Command(conn, "SELECT attrelid::oid, attname::text, atttypid::oid, atttypmod FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", [PostgresNames.QuoteQualified(table)]))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                oid = reader.GetFieldValue<uint>(0);
                columns.Add((reader.GetString(1), reader.GetFieldValue<uint>(2), reader.GetInt32(3)));
            }
        }
        if (columns.Count == 0)
        {
            throw new InvalidOperationException($"table {table} does not exist or has no columns");
        }
        return await LoadSchemaAsync(conn, oid, table, columns, ct);
    }

    /// <summary>Drops slot and publication (waiting briefly for an exiting walsender to release the slot).</summary>
    public static async Task DropPublicationAndSlotAsync(PostgresSourceSpec spec, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(spec.ConnectionString, ct);
        var slot = PostgresNames.Slot(spec.Id);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await Execute(conn, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", ct, slot);
                break;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 50)
            {
                await Task.Delay(200, ct);
            }
        }
        await Execute(conn, $"DROP PUBLICATION IF EXISTS {PostgresNames.Quote(PostgresNames.Publication(spec.Id))}", ct);
    }

    /// <summary>
    /// Writes a heartbeat into the WAL (a non-transactional logical decoding message), so a source whose tables
    /// are quiet still sees the stream advance and can confirm past other databases' and tables' WAL. Then reads
    /// the slot's lag (current LSN − confirmed LSN) and retained WAL (current LSN − restart LSN); null when the
    /// slot is gone.
    /// </summary>
    public static async Task<SlotHealth?> HeartbeatAsync(string connectionString, string slot, bool emit, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(connectionString, ct);
        if (emit)
        {
            // The server's clock at the heartbeat: what committed before it is in the stream before the heartbeat.
            await Execute(conn, "SELECT pg_logical_emit_message(false, $1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text)", ct, PostgresNames.HeartbeatPrefix);
        }
        await using var cmd = Command(conn, """
            SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint, (pg_current_wal_lsn() - restart_lsn)::bigint, wal_status
            FROM pg_replication_slots WHERE slot_name = $1
            """, [slot]);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new SlotHealth(reader.IsDBNull(0) ? 0 : reader.GetInt64(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1), reader.IsDBNull(2) ? "unknown" : reader.GetString(2));
    }

    /// <summary>True when the slot exists.</summary>
    public static async Task<bool> SlotExistsAsync(string connectionString, string slot, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(connectionString, ct);
        return await Scalar(conn, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", ct, slot) is not null;
    }

    /// <summary>
    /// A relation's schema from the columns and types the stream (or the catalog) gives, with the key: the primary
    /// key, else the replica identity index, else every column (REPLICA IDENTITY FULL without a key).
    /// </summary>
    public static async Task<TableSchema> LoadSchemaAsync(NpgsqlConnection conn, uint relationId, string table, IReadOnlyList<(string Name, uint TypeOid, int TypeModifier)> columns, CancellationToken ct)
    {
        var types = new List<string>();
        var key = new HashSet<string>(StringComparer.Ordinal);
        await using (var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT format_type(t, m) FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(t, m, n) ORDER BY n")
                {
                    Parameters =
                    {
                        new() { Value = columns.Select(c => c.TypeOid).ToArray(), DataTypeName = "oid[]" },
                        new() { Value = columns.Select(c => c.TypeModifier).ToArray() },
                    },
                },
                new NpgsqlBatchCommand("""
                    SELECT a.attname::text
                    FROM (SELECT indkey::int2[] AS k FROM pg_index WHERE indrelid = $1 AND (indisprimary OR indisreplident)
                          ORDER BY indisprimary DESC LIMIT 1) i
                    JOIN pg_attribute a ON a.attrelid = $1 AND a.attnum = ANY(i.k)
                    """)
                {
                    Parameters = { new() { Value = relationId, DataTypeName = "oid" } },
                },
            },
        })
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                types.Add(reader.GetString(0));
            }
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                key.Add(reader.GetString(0));
            }
        }
        var schemaColumns = columns.Select((c, i) => new ColumnSchema(c.Name, types[i])).ToArray();
        var keyIndexes = Enumerable.Range(0, schemaColumns.Length).Where(i => key.Contains(schemaColumns[i].Name)).ToArray();
        return new TableSchema(table, schemaColumns, keyIndexes.Length > 0 ? keyIndexes : Enumerable.Range(0, schemaColumns.Length).ToArray());
    }

    /// <summary>Opens an ordinary connection; an unreachable server becomes a <see cref="SourceValidationException"/> naming host, port and database.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var conn = new NpgsqlConnection(connectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await conn.DisposeAsync();
            throw new SourceValidationException(
                $"cannot connect to PostgreSQL at {builder.Host}:{builder.Port}/{builder.Database} as '{builder.Username}': {(e as PostgresException)?.MessageText ?? e.Message}");
        }
    }

    private static async Task<string?> CheckTableAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        const string sql = """
            SELECT c.relreplident::text, c.relkind::text,
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """;
        var (schema, name) = PostgresNames.Split(table);
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = schema }, new() { Value = name } } };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return $"table {table} does not exist";
        }
        var (identity, kind, hasKey) = (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2));
        if (kind is not ("r" or "p"))
        {
            return $"{table} is not a table (relkind '{kind}'); only ordinary and partitioned tables can be captured";
        }
        return identity switch
        {
            "n" => $"table {table} has REPLICA IDENTITY NOTHING, so updates and deletes cannot be captured; set REPLICA IDENTITY FULL or DEFAULT with a primary key",
            "d" when !hasKey => $"table {table} has no primary key and REPLICA IDENTITY DEFAULT; add a primary key or run ALTER TABLE {table} REPLICA IDENTITY FULL",
            _ => null,
        };
    }

    private static async Task<(string Role, bool CanReplicate)> RoleAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT rolname::text, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetString(0), reader.GetBoolean(1));
    }

    private static async Task<object?> Scalar(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = Command(conn, sql, args);
        var result = await cmd.ExecuteScalarAsync(ct);
        return result is DBNull ? null : result;
    }

    private static async Task Execute(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = Command(conn, sql, args);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, object[] args)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        return cmd;
    }
}

/// <summary>A slot as the server sees it.</summary>
/// <param name="LagBytes">WAL between the server's current LSN and the slot's confirmed LSN.</param>
/// <param name="RetainedBytes">WAL the slot keeps from being recycled.</param>
/// <param name="WalStatus">pg_replication_slots.wal_status: reserved, extended, unreserved or lost.</param>
public sealed record SlotHealth(long LagBytes, long RetainedBytes, string WalStatus);
