using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Saiki.Orleans.Lake;

/// <summary>
/// A lake in an S3 bucket. Payloads are sent unchunked: S3-compatible stores that do not decode aws-chunked
/// bodies (s3rver among them) would otherwise store the chunk framing inside the object and still answer 200.
/// Over HTTPS the payload is left unsigned (TLS protects it); over plain HTTP it is signed whole.
/// </summary>
public sealed class S3LakeStore : ILakeStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly bool _https;
    private readonly SemaphoreSlim _bucketCheck = new(1, 1);
    private bool _bucketReady;
    private readonly bool _createBucket;

    /// <summary>Creates the client from <see cref="LakeOptions.S3"/>.</summary>
    public S3LakeStore(IOptions<LakeOptions> options) : this(options.Value.S3)
    {
    }

    /// <summary>Creates the client from S3 settings.</summary>
    public S3LakeStore(S3LakeOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }
        _https = string.IsNullOrEmpty(options.ServiceUrl) || options.ServiceUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
        _s3 = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _bucket = options.Bucket;
        _createBucket = options.CreateBucket;
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await EnsureBucketAsync(cancellationToken);
        using var body = new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            DisablePayloadSigning = _https,
            UseChunkEncoding = false,
        };
        await _s3.PutObjectAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(_bucket, key, cancellationToken);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListAsync(string prefix, string? startAfter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, StartAfter = startAfter };
        while (true)
        {
            var response = await _s3.ListObjectsV2Async(request, cancellationToken);
            // SDK v4 returns null rather than an empty list when nothing matches.
            foreach (var o in response.S3Objects ?? [])
            {
                yield return o.Key;
            }
            if (response.IsTruncated != true)
            {
                yield break;
            }
            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await _s3.DeleteObjectAsync(_bucket, key, cancellationToken);

    /// <summary>Creates the bucket when <see cref="S3LakeOptions.CreateBucket"/> is set and it does not exist yet.</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        if (_bucketReady || !_createBucket)
        {
            return;
        }
        await _bucketCheck.WaitAsync(cancellationToken);
        try
        {
            if (!_bucketReady)
            {
                try
                {
                    await _s3.PutBucketAsync(_bucket, cancellationToken);
                }
                catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
                {
                }
                _bucketReady = true;
            }
        }
        finally
        {
            _bucketCheck.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _s3.Dispose();
        _bucketCheck.Dispose();
    }
}
