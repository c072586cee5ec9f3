using Npgsql;
using Saiki.Orleans.Sources;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Pipeline;

/// <summary>Each refused registration names the problem and leaves nothing behind: no slot, no publication, no source.</summary>
[Collection(PipelineCollection.Name)]
public sealed class RegistrationValidationTests(PipelineCluster fixture)
{
    [Fact]
    public async Task UnreachableDatabase_IsRefusedNamingHostAndPort()
    {
        await using var db = await TestDatabase.CreateAsync("unreach");
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.t (id int PRIMARY KEY)");
        var error = await RefusedAsync(db, new PostgresSourceSpec(db.Name, "Host=127.0.0.1;Port=1;Username=postgres;Database=postgres;Timeout=3", [$"{db.Name}.t"]));
        Assert.Contains("cannot connect to PostgreSQL at 127.0.0.1:1/postgres", error.Message);
    }

    [Fact]
    public async Task ServerWithoutLogicalWal_IsRefusedNamingTheSetting()
    {
        await using var plain = new NpgsqlConnection(TestEnvironment.PlainPostgresConnection);
        await plain.OpenAsync();
        await using (var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS public.walcheck (id int PRIMARY KEY)", plain))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        var id = "walcheck_" + Guid.NewGuid().ToString("N")[..8];
        var error = await Assert.ThrowsAsync<SourceValidationException>(() =>
            fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(id, TestEnvironment.PlainPostgresConnection, ["public.walcheck"])));
        Assert.Contains("wal_level is 'replica'; set wal_level = logical", error.Message);
        await using var check = new NpgsqlCommand("SELECT (SELECT count(*) FROM pg_publication) + (SELECT count(*) FROM pg_replication_slots)", plain);
        Assert.Equal(0L, await check.ExecuteScalarAsync());
        Assert.Null(await fixture.Client.GetSourceAsync(id));
    }

    [Fact]
    public async Task RoleWithoutReplication_IsRefusedSayingHowToGrantIt()
    {
        await using var db = await TestDatabase.CreateAsync("norepl");
        var role = db.Name + "_role";
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.t (id int PRIMARY KEY); CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA {db.Name} TO {role}");
        try
        {
            var conn = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = role }.ConnectionString;
            var error = await RefusedAsync(db, new PostgresSourceSpec(db.Name, conn, [$"{db.Name}.t"]));
            Assert.Contains($"role '{role}' lacks the REPLICATION attribute; run ALTER ROLE \"{role}\" REPLICATION", error.Message);
        }
        finally
        {
            await db.ExecuteAsync($"DROP OWNED BY {role}; DROP ROLE {role}");
        }
    }

    [Fact]
    public async Task MissingTable_IsRefusedNamingTheTable()
    {
        await using var db = await TestDatabase.CreateAsync("missing");
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.present (id int PRIMARY KEY)");
        var error = await RefusedAsync(db, new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.present", $"{db.Name}.absent"]));
        Assert.Equal([$"table {db.Name}.absent does not exist"], error.Problems);
    }

    [Fact]
    public async Task TableWithoutKeyOrFullIdentity_IsRefusedSayingWhatToDo()
    {
        await using var db = await TestDatabase.CreateAsync("nokey");
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.log (msg text); CREATE TABLE {db.Name}.quiet (id int PRIMARY KEY); ALTER TABLE {db.Name}.quiet REPLICA IDENTITY NOTHING");
        var error = await RefusedAsync(db, new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.log", $"{db.Name}.quiet"]));
        Assert.Contains($"table {db.Name}.log has no primary key and REPLICA IDENTITY DEFAULT; add a primary key or run ALTER TABLE {db.Name}.log REPLICA IDENTITY FULL", error.Problems);
        Assert.Contains($"table {db.Name}.quiet has REPLICA IDENTITY NOTHING", error.Message);
    }

    [Fact]
    public async Task MalformedSpec_IsRefusedListingEveryProblem()
    {
        var error = await Assert.ThrowsAsync<SourceValidationException>(() =>
            fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec("Bad-Id", "Host=127.0.0.1", ["a.b", "a.b", "no way"], 0)));
        Assert.Contains(error.Problems, p => p.StartsWith("source id 'Bad-Id' is invalid", StringComparison.Ordinal));
        Assert.Contains("partitions is 0; it must be between 1 and 256", error.Problems);
        Assert.Contains("table a.b is listed more than once", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith("table name 'public.no way' is not of the form schema.table or schema.* (letters, digits and '_'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TableNamesNoLakeKeyGrainOrTopicCanCarry_AreRefusedNamed_OrThroughAPattern_AndExcludingThemWorks()
    {
        await using var db = await TestDatabase.CreateAsync("names");
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.\"price$eur\" (id int PRIMARY KEY); CREATE TABLE {db.Name}.\"a|b\" (id int PRIMARY KEY); CREATE TABLE {db.Name}.fine (id int PRIMARY KEY)");
        var named = await RefusedAsync(db, new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.price$eur"]));
        Assert.Contains(named.Problems, p => p.StartsWith($"table name '{db.Name}.price$eur' is not of the form", StringComparison.Ordinal));
        var pattern = await RefusedAsync(db, new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.*"]));
        Assert.Contains($"{db.Name}.* matches table '{db.Name}.price$eur', whose name Saiki cannot carry (letters, digits and '_' in schema and table: the name also names the table's lake folder, grains and Kafka topic); rename it or list it in excludeTables", pattern.Problems);
        Assert.Contains(pattern.Problems, p => p.StartsWith($"{db.Name}.* matches table '{db.Name}.a|b'", StringComparison.Ordinal));
        var info = await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.*"],
            ExcludeTables: [$"{db.Name}.price$eur", $"{db.Name}.a|b"]));
        Assert.Equal([$"{db.Name}.fine"], info.Tables);
        Assert.True(await fixture.Client.RemoveSourceAsync(db.Name));
    }

    [Fact]
    public async Task SecondRegistrationOfTheSameId_IsRefusedAndTheFirstKeepsRunning()
    {
        await using var db = await TestDatabase.CreateAsync("twice");
        await db.ExecuteAsync($"CREATE TABLE {db.Name}.t (id int PRIMARY KEY)");
        var spec = new PostgresSourceSpec(db.Name, db.ConnectionString, [$"{db.Name}.t"]);
        await fixture.Client.RegisterPostgresSourceAsync(spec);
        var error = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterPostgresSourceAsync(spec));
        Assert.Contains($"source '{db.Name}' is already registered", error.Message);
        Assert.NotNull(await fixture.Client.GetSourceAsync(db.Name));
        Assert.Equal(1L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{db.Name}'"));
        Assert.True(await fixture.Client.RemoveSourceAsync(db.Name));
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{db.Name}'"));
        Assert.False(await fixture.Client.RemoveSourceAsync(db.Name));
    }

    [Fact]
    public async Task ATableRenamedToANameSaikiCannotCarry_GoesOnUnderTheMappedName()
    {
        await using var db = await TestDatabase.CreateAsync("rename");
        var s = db.Name;
        await db.ExecuteAsync($"CREATE TABLE {s}.t (id int PRIMARY KEY, v int)");
        await fixture.Client.RegisterPostgresSourceAsync(new PostgresSourceSpec(s, db.ConnectionString, [$"{s}.t"], 2, SnapshotMode.Never));
        await Eventually.MatchAsync(() => fixture.Client.GetSourceAsync(s), i => i!.State == SourceState.Running);
        await db.ExecuteAsync($"INSERT INTO {s}.t SELECT g, g FROM generate_series(1, 10) g");
        await fixture.AssertLakeMatchesAsync(db, s, $"{s}.t", ["id"], 2);
        await db.ExecuteAsync($"ALTER TABLE {s}.t RENAME TO \"t$x\"; INSERT INTO {s}.\"t$x\" SELECT g, g FROM generate_series(11, 20) g; UPDATE {s}.\"t$x\" SET v = -v WHERE id = 3");
        // The changes after the rename are in the lake under public.t_24x's form of the name, exactly.
        var after = await fixture.AssertLakeMatchesAsync(async () => (await db.ReadTableAsync($"{s}.t$x", ["id"])).Where(r => int.Parse(r.Key) > 10 || r.Key == "3")
            .ToDictionary(r => r.Key, r => r.Value), s, $"{s}.t_24x", ["id"], 2);
        Assert.Equal(11, after.Changes);
        Assert.Equal(SourceState.Running, (await fixture.Client.GetSourceAsync(s))!.State);
        Assert.True(await fixture.Client.RemoveSourceAsync(s));
    }

    private async Task<SourceValidationException> RefusedAsync(TestDatabase db, PostgresSourceSpec spec)
    {
        var error = await Assert.ThrowsAsync<SourceValidationException>(() => fixture.Client.RegisterPostgresSourceAsync(spec));
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{spec.Id}'"));
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_publication WHERE pubname = 'saiki_{spec.Id}'"));
        Assert.Null(await fixture.Client.GetSourceAsync(spec.Id));
        Assert.DoesNotContain(await fixture.Client.ListSourcesAsync(), s => s.Id == spec.Id);
        return error;
    }
}
