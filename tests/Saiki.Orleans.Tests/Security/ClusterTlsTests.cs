using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Saiki.Orleans.Client;
using Saiki.Orleans.Silo.Hosting;
using Saiki.Orleans.Tests.Infrastructure;

namespace Saiki.Orleans.Tests.Security;

/// <summary>
/// With mutual TLS on (Saiki:Silo:Tls), only a cluster client holding a certificate of the cluster's CA gets in; a
/// plain client, or one whose certificate another CA issued, cannot call a single grain.
/// </summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "saiki-tls-" + Guid.NewGuid().ToString("N"));
    private readonly int _gateway = TestSilo.FreePort();
    private readonly string _clusterId = "tls-" + Guid.NewGuid().ToString("N")[..8];
    private TestSilo _silo = null!;
    private X509Certificate2 _ca = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _ca = Authority("CN=saiki test cluster CA");
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), _ca.ExportCertificatePem());
        WritePem(Issue(_ca, "CN=silo"), "tls");
        _silo = await TestSilo.StartAsync(null,
            $"--Saiki:Silo:GatewayPort={_gateway}", $"--Saiki:Silo:ClusterId={_clusterId}",
            $"--Saiki:Silo:Tls:CertificatePath={_dir}/tls.crt", $"--Saiki:Silo:Tls:KeyPath={_dir}/tls.key", $"--Saiki:Silo:Tls:CaPath={_dir}/ca.crt");
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task AClientWithACertificateOfTheClustersCa_CallsGrains()
    {
        using var host = Client(Issue(_ca, "CN=client"));
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var sources = await new SaikiClient(host.Services.GetRequiredService<IClusterClient>()).ListSourcesAsync();
        Assert.Empty(sources);
        await host.StopAsync();
    }

    [Fact]
    public async Task APlainClient_OrOneWithAnotherCasCertificate_CannotCallAnyGrain()
    {
        using var otherCa = Authority("CN=another CA");
        foreach (var certificate in new X509Certificate2?[] { null, Issue(otherCa, "CN=intruder") })
        {
            using var host = Client(certificate);
            var attempt = async () =>
            {
                await host.StartAsync();
                await new SaikiClient(host.Services.GetRequiredService<IClusterClient>()).ListSourcesAsync();
            };
            await Assert.ThrowsAnyAsync<Exception>(() => attempt().WaitAsync(TimeSpan.FromSeconds(40)));
        }
    }

    /// <summary>An Orleans client of the silo's cluster; with a certificate it speaks mutual TLS, checking the silo against the cluster's CA.</summary>
    private IHost Client(X509Certificate2? certificate) => new HostBuilder()
        .UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(_gateway, "saiki", _clusterId);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            if (certificate is not null)
            {
                client.UseTls(certificate, o => SiloTls.Require(o, _ca));
            }
        })
        .Build();

    /// <summary>A self-signed CA certificate with its private key.</summary>
    private static X509Certificate2 Authority(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A client and server certificate issued by <paramref name="ca"/> (which holds its private key).</summary>
    private static X509Certificate2 Issue(X509Certificate2 ca, string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), RandomNumberGenerator.GetBytes(8));
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private void WritePem(X509Certificate2 certificate, string name)
    {
        File.WriteAllText(Path.Combine(_dir, name + ".crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, name + ".key"), certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }
}
