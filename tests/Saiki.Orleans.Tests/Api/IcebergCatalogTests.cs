using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Api;

/// <summary>
/// The silo as shipped (local lake, Iceberg format) serves its Iceberg REST catalog at <c>/iceberg</c>: iceberg-js,
/// a REST client this project did not write, finds every source and schema as a namespace and every table in it,
/// loads committed metadata that icebird then reads through the metadata location, and is refused every write; the
/// errors are the spec's error model.
/// </summary>
public sealed class IcebergCatalogTests : IAsyncLifetime
{
    private TestSilo _silo = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync(null, "--Saiki:Lake:Format=Iceberg", "--Saiki:Lake:Iceberg:CommitInterval=00:00:00.300");
        _http = _silo.Http;
    }

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Fact]
    public async Task IcebergJs_ListsLoadsAndChecksEveryTable_IcebirdReadsThemThroughTheCatalog_AndWritesAreRefused()
    {
        await using var db = await TestDatabase.CreateAsync("icecat");
        var schema = db.Name;
        // A source id other than the schema name, so the two namespace levels cannot be confused.
        var source = "src_" + db.Name;
        await db.ExecuteAsync($"""
            CREATE TABLE {schema}.orders (id int PRIMARY KEY, status text, qty bigint);
            CREATE TABLE {schema}.customers (id int PRIMARY KEY, name text);
            """);
        try
        {
            var created = await _http.PostAsJsonAsync("/api/sources/postgres", new
            {
                id = source, connectionString = db.ConnectionString, tables = new[] { $"{schema}.orders", $"{schema}.customers" }, partitions = 2,
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await db.ExecuteAsync($"""
                INSERT INTO {schema}.orders SELECT g, 'new', g * 1000000000000 FROM generate_series(1, 40) g;
                UPDATE {schema}.orders SET status = 'paid', qty = qty + 1 WHERE id <= 10;
                DELETE FROM {schema}.orders WHERE id > 35;
                INSERT INTO {schema}.customers SELECT g, 'customer ' || g FROM generate_series(1, 20) g;
                UPDATE {schema}.customers SET name = NULL WHERE id % 4 = 0;
                """);
            var changes = new Dictionary<string, int> { ["orders"] = 40 + 10 + 5, ["customers"] = 20 + 5 };

            // Each table is in the catalog once its first snapshot is committed, and whole once the last change is.
            var ns = $"{source}%1F{schema}";
            foreach (var (table, count) in changes)
            {
                var committed = await Eventually.MatchAsync(
                    () => LoadTotalRecordsAsync($"/iceberg/v1/namespaces/{ns}/tables/{table}_changelog"),
                    r => r.Status == HttpStatusCode.OK && r.Records == count);
                Assert.Equal((HttpStatusCode.OK, (long)count), committed);
            }

            var walk = await IcebergCatalogScript.RunAsync(new Uri(_silo.Url, "iceberg").ToString());
            Assert.Equal(new[] { new[] { source }, new[] { source, schema } }, Namespaces(walk.GetProperty("namespaces")));
            var listings = walk.GetProperty("listings").EnumerateArray()
                .ToDictionary(l => l.GetProperty("parent").ValueKind == JsonValueKind.Null ? "" : string.Join('.', Strings(l.GetProperty("parent"))), l => Namespaces(l.GetProperty("namespaces")));
            Assert.Equal(new[] { new[] { source } }, listings[""]);
            Assert.Equal(new[] { new[] { source, schema } }, listings[source]);
            Assert.Empty(listings[$"{source}.{schema}"]);
            var paged = walk.GetProperty("paged");
            Assert.Equal(new[] { new[] { source } }, Namespaces(paged.GetProperty("namespaces").GetProperty("items")));
            // Each captured table is two Iceberg tables: its current state (the mirror) and every change.
            var names = new[] { "customers", "customers_changelog", "orders", "orders_changelog" };
            Assert.Equal(4, paged.GetProperty("tables").GetProperty("pages").GetInt32());
            Assert.Equal(names, paged.GetProperty("tables").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

            var tables = walk.GetProperty("tables").EnumerateArray().ToArray();
            Assert.Equal(names, tables.Select(t => t.GetProperty("name").GetString()));
            var work = new Uri(Path.GetFullPath(_silo.Work) + Path.DirectorySeparatorChar).AbsoluteUri;
            foreach (var table in tables)
            {
                var name = table.GetProperty("name").GetString()!;
                Assert.Equal(new[] { source, schema }, Strings(table.GetProperty("namespace")));
                var metadata = table.GetProperty("metadata");
                Assert.Equal(2, metadata.GetProperty("format-version").GetInt32());
                var current = metadata.GetProperty("current-snapshot-id").GetInt64();
                Assert.Contains(metadata.GetProperty("snapshots").EnumerateArray(), s => s.GetProperty("snapshot-id").GetInt64() == current);
                var location = table.GetProperty("metadataLocation").GetString()!;
                Assert.StartsWith(work, location);
                Assert.EndsWith(".metadata.json", location);
                Assert.True(File.Exists(new Uri(location).LocalPath), $"{location} is not on disk");
                Assert.StartsWith(work, metadata.GetProperty("location").GetString());

                // The metadata location is all an engine needs to read the table.
                var read = await Icebird.ReadAsync(location);
                if (name.EndsWith("_changelog", StringComparison.Ordinal))
                {
                    var replay = ChangelogReplay.Of(read, ["id"]);
                    Assert.Equal(changes[name[..^"_changelog".Length]], replay.Changes.Count);
                    Assert.Empty(LakeReplay.Compare(await db.ReadTableAsync($"{schema}.{name[..^"_changelog".Length]}", ["id"]), replay.Rows));
                }
                else
                {
                    var expected = await db.ReadTableAsync($"{schema}.{name}", ["id"]);
                    Assert.Equal(expected.Keys.Order(), read.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("id").GetRawText()).Order());
                }
            }

            var exists = walk.GetProperty("exists");
            Assert.Equal(new[] { source, schema }, Strings(exists.GetProperty("namespace").GetProperty("name")));
            Assert.True(exists.GetProperty("namespace").GetProperty("exists").GetBoolean());
            Assert.Equal(new[] { source, "saiki_missing_namespace" }, Strings(exists.GetProperty("missingNamespace").GetProperty("name")));
            Assert.False(exists.GetProperty("missingNamespace").GetProperty("exists").GetBoolean());
            Assert.Equal("customers", exists.GetProperty("table").GetProperty("name").GetProperty("name").GetString());
            Assert.True(exists.GetProperty("table").GetProperty("exists").GetBoolean());
            Assert.False(exists.GetProperty("missingTable").GetProperty("exists").GetBoolean());

            var write = walk.GetProperty("write");
            Assert.True(write.GetProperty("refused").GetBoolean(), "createNamespace was not refused");
            Assert.Equal(403, write.GetProperty("status").GetInt32());
            Assert.Equal("ForbiddenException", write.GetProperty("type").GetString());
            Assert.Equal(403, write.GetProperty("code").GetInt32());

            // Plain HTTP: existence without a body, a missing table told from a missing namespace, paging only when asked.
            var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/iceberg/v1/namespaces/{ns}/tables/orders"));
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/iceberg/v1/namespaces/{source}"))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/iceberg/v1/namespaces/{ns}/tables/nope"))).StatusCode);
            await AssertErrorAsync(await _http.GetAsync($"/iceberg/v1/namespaces/{ns}/tables/nope"), HttpStatusCode.NotFound, "NoSuchTableException");
            await AssertErrorAsync(await _http.GetAsync($"/iceberg/v1/namespaces/{source}%1Fnope/tables/orders"), HttpStatusCode.NotFound, "NoSuchNamespaceException");
            await AssertErrorAsync(await _http.GetAsync($"/iceberg/v1/namespaces?parent={source}%1Fnope"), HttpStatusCode.NotFound, "NoSuchNamespaceException");
            var all = await _http.GetFromJsonAsync<JsonElement>($"/iceberg/v1/namespaces/{ns}/tables?pageSize=1");
            Assert.Equal(4, all.GetProperty("identifiers").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, all.GetProperty("next-page-token").ValueKind);
            var first = await _http.GetFromJsonAsync<JsonElement>($"/iceberg/v1/namespaces/{ns}/tables?pageToken=&pageSize=1");
            Assert.Equal("customers", Assert.Single(first.GetProperty("identifiers").EnumerateArray()).GetProperty("name").GetString());
            Assert.Equal("1", first.GetProperty("next-page-token").GetString());
            await AssertErrorAsync(await _http.PostAsJsonAsync($"/iceberg/v1/namespaces/{ns}/tables/orders", new { requirements = Array.Empty<object>(), updates = Array.Empty<object>() }),
                HttpStatusCode.Forbidden, "ForbiddenException");
            await AssertErrorAsync(await _http.DeleteAsync($"/iceberg/v1/namespaces/{ns}/tables/orders"), HttpStatusCode.Forbidden, "ForbiddenException");
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/iceberg/v1/namespaces/{ns}/tables/orders")).StatusCode);

            Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/sources/{source}")).StatusCode);
            Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'saiki_{source}'"));
        }
        finally
        {
            // The slot is not named after the schema, so the database's cleanup would not drop it: a failed test must not leave it holding WAL.
            await _http.DeleteAsync($"/api/sources/{source}");
        }
    }

    [Fact]
    public async Task CatalogAnswers_AreTheSpecsModels_InJson_ConfigWithoutPrefix_MissingNamespace404_Writes403()
    {
        var config = await _http.GetAsync("/iceberg/v1/config?warehouse=lake");
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
        Assert.Equal("application/json", config.Content.Headers.ContentType?.MediaType);
        var body = await config.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Object, body.GetProperty("defaults").ValueKind);
        Assert.Equal(JsonValueKind.Object, body.GetProperty("overrides").ValueKind);
        Assert.False(body.GetProperty("overrides").TryGetProperty("prefix", out _));
        var endpoints = body.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Contains("GET /v1/{prefix}/namespaces", endpoints);
        Assert.Contains("HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}", endpoints);
        Assert.DoesNotContain(endpoints, e => e!.StartsWith("POST ", StringComparison.Ordinal) || e.StartsWith("DELETE ", StringComparison.Ordinal));

        var top = await _http.GetFromJsonAsync<JsonElement>("/iceberg/v1/namespaces");
        Assert.Equal(0, top.GetProperty("namespaces").GetArrayLength());
        var missing = await AssertErrorAsync(await _http.GetAsync("/iceberg/v1/namespaces/nope"), HttpStatusCode.NotFound, "NoSuchNamespaceException");
        Assert.Contains("nope", missing.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/iceberg/v1/namespaces/nope"))).StatusCode);
        await AssertErrorAsync(await _http.GetAsync("/iceberg/v1/namespaces/nope/tables"), HttpStatusCode.NotFound, "NoSuchNamespaceException");
        await AssertErrorAsync(await _http.PostAsJsonAsync("/iceberg/v1/namespaces", new { @namespace = new[] { "mine" } }), HttpStatusCode.Forbidden, "ForbiddenException");
        await AssertErrorAsync(await _http.PostAsJsonAsync("/iceberg/v1/tables/rename", new { }), HttpStatusCode.Forbidden, "ForbiddenException");
    }

    /// <summary>Asserts the spec's error model, <c>{"error":{"message","type","code"}}</c> as JSON; returns <c>error</c>.</summary>
    private static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal((int)status, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }

    /// <summary>A loadTable answer's status and its current snapshot's total-records (−1 without an answer).</summary>
    private async Task<(HttpStatusCode Status, long Records)> LoadTotalRecordsAsync(string path)
    {
        using var loaded = await _http.GetAsync(path);
        if (loaded.StatusCode != HttpStatusCode.OK)
        {
            return (loaded.StatusCode, -1);
        }
        using var document = JsonDocument.Parse(await loaded.Content.ReadAsStringAsync());
        var metadata = document.RootElement.GetProperty("metadata");
        var current = metadata.GetProperty("current-snapshot-id").GetInt64();
        var snapshot = metadata.GetProperty("snapshots").EnumerateArray().First(s => s.GetProperty("snapshot-id").GetInt64() == current);
        return (loaded.StatusCode, long.Parse(snapshot.GetProperty("summary").GetProperty("total-records").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static string[][] Namespaces(JsonElement array) => array.EnumerateArray().Select(Strings).ToArray();
}
