using System.Net;
using System.Net.Http.Json;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Security;

/// <summary>A silo without write tokens serves writes only on loopback, unless open writes are allowed explicitly.</summary>
public sealed class OpenWritesTests
{
    [Fact]
    public async Task WithoutTokens_OnANonLoopbackAddress_TheSiloRefusesToStart_NamingTheFix()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestSilo.StartAsync(null, "--urls=http://0.0.0.0:0"));
        var message = e is AggregateException a ? string.Join(" | ", a.InnerExceptions.Select(i => i.Message)) : e.Message;
        Assert.Contains("which is not loopback, and Saiki:Api has no WriteTokens or OperatorTokens", message);
        Assert.Contains("Saiki:Api:AllowOpenWrites=true", message);
    }

    [Fact]
    public async Task WithoutTokens_OnANonLoopbackAddress_AllowOpenWritesStartsIt_AndWithATokenWritesNeedIt()
    {
        await using (var open = await TestSilo.StartAsync(null, "--urls=http://0.0.0.0:0", "--Saiki:Api:AllowOpenWrites=true"))
        {
            Assert.Equal(HttpStatusCode.OK, (await open.Http.GetAsync("/api/sources")).StatusCode);
        }
        await using var guarded = await TestSilo.StartAsync(null, "--urls=http://0.0.0.0:0", "--Saiki:Api:WriteTokens:0=writer-token-0123456789");
        var refused = await guarded.Http.PostAsJsonAsync("/api/sources/kafka", new { id = "k", bootstrapServers = "127.0.0.1:9", topic = "t" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
