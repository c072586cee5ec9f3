using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Saiki.Orleans.Silo.Hosting;

/// <summary>
/// Mutual TLS on the silo-to-silo and gateway ports: without it any process that reaches them is a cluster client
/// and may call any grain (a forged acknowledgement, say). Each side presents a certificate and accepts the other's
/// only when it chains to the configured CA. Peers are reached by pod IP, so the CA, not the host name, vouches
/// for membership: a certificate of that CA is a key to the cluster.
/// </summary>
public static class SiloTls
{
    /// <summary>Turns mutual TLS on for a silo, when <paramref name="tls"/> is configured.</summary>
    public static void Configure(ISiloBuilder silo, SiloTlsOptions tls)
    {
        if (!tls.Enabled)
        {
            return;
        }
        var (certificate, ca) = Load(tls.CertificatePath!, tls.KeyPath!, tls.CaPath!);
        silo.UseTls(certificate, o => Require(o, ca));
    }

    /// <summary>Loads a PEM certificate with its key, and the CA certificate.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2 Ca) Load(string certificatePath, string keyPath, string caPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // SslStream needs a certificate whose key is not ephemeral on every platform; a PKCS#12 round trip gives one.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
        return (certificate, ca);
    }

    /// <summary>Requires the remote side's certificate, on both directions of every connection, and checks it against <paramref name="ca"/>.</summary>
    public static void Require(TlsOptions options, X509Certificate2 ca)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (certificate, _, errors) => IssuedBy(certificate, ca, errors);
    }

    private static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca, SslPolicyErrors errors)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
