using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Saiki.Orleans.Diagnostics;

namespace Saiki.Orleans.Lake;

/// <summary>
/// A lake in an S3 bucket. Payloads are sent unchunked: S3-compatible stores that do not decode aws-chunked
/// bodies (s3rver among them) would otherwise store the chunk framing inside the object and still answer 200.
/// Over HTTPS the payload is left unsigned (TLS protects it); over plain HTTP it is signed whole. Objects larger than
/// <see cref="S3LakeOptions.MultipartThresholdBytes"/> go up as a multipart upload (parts of
/// <see cref="S3LakeOptions.PartSizeBytes"/>, sent the same way, a few at once) that is aborted when it fails, so a
/// reader still sees the old object or none.
/// </summary>
public sealed class S3LakeStore : ILakeStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly bool _https;
    private readonly SemaphoreSlim _bucketCheck = new(1, 1);
    private bool _bucketReady;
    private readonly bool _createBucket;
    private readonly long _multipartThreshold;
    private readonly long _partSize;
    private readonly ILogger _logger;

    /// <summary>S3's limit of parts per upload.</summary>
    private const int MaxParts = 10_000;
    /// <summary>Parts of one upload in flight at once.</summary>
    private const int PartConcurrency = 4;

    /// <summary>Creates the client from <see cref="LakeOptions.S3"/>.</summary>
    [ActivatorUtilitiesConstructor]
    public S3LakeStore(IOptions<LakeOptions> options, ILogger<S3LakeStore> logger) : this(options.Value.S3, logger)
    {
    }

    /// <summary>Creates the client from S3 settings.</summary>
    public S3LakeStore(S3LakeOptions options, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _multipartThreshold = options.MultipartThresholdBytes;
        _partSize = options.PartSizeBytes;
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

    /// <summary>The S3 client (tests watch the requests it makes).</summary>
    internal IAmazonS3 Client => _s3;

    /// <inheritdoc />
    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await EnsureBucketAsync(cancellationToken);
        if (content.Length > _multipartThreshold)
        {
            await PutMultipartAsync(key, content, cancellationToken);
            return;
        }
        using var body = StreamOf(content);
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

    /// <summary>
    /// Initiate, upload the parts (each unchunked, like a whole put), complete. The object appears only on completion;
    /// a failure aborts the upload so its parts do not linger (a bucket lifecycle rule for incomplete multipart
    /// uploads catches uploads whose abort fails too).
    /// </summary>
    private async Task PutMultipartAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var partSize = (int)Math.Min(content.Length, Math.Max(_partSize, (content.Length + MaxParts - 1L) / MaxParts));
        var parts = (content.Length + partSize - 1) / partSize;
        var upload = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key }, cancellationToken);
        try
        {
            var etags = new PartETag[parts];
            var options = new ParallelOptions { MaxDegreeOfParallelism = PartConcurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, parts), options, async (i, ct) =>
            {
                var part = content.Slice(i * partSize, Math.Min(partSize, content.Length - i * partSize));
                using var body = StreamOf(part);
                var response = await _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = i + 1,
                    InputStream = body,
                    PartSize = part.Length,
                    IsLastPart = i == parts - 1,
                    DisablePayloadSigning = _https,
                    UseChunkEncoding = false,
                }, ct);
                etags[i] = new PartETag(i + 1, response.ETag);
            });
            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = [.. etags],
            }, cancellationToken);
            LakeLog.MultipartUploaded(_logger, key, content.Length, parts, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await AbortAsync(key, upload.UploadId);
            throw;
        }
    }

    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LakeLog.AbortFailed(_logger, key, uploadId, e);
        }
    }

    /// <summary>A read-only stream over the bytes, without copying them when they live in an array.</summary>
    private static MemoryStream StreamOf(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

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
    public string Location(string key) => $"s3://{_bucket}/{key}";

    /// <inheritdoc />
    public string KeyOf(string location) => location.StartsWith($"s3://{_bucket}/", StringComparison.Ordinal)
        ? location[$"s3://{_bucket}/".Length..]
        : throw new ArgumentException($"{location} is not in this lake (s3://{_bucket}/)", nameof(location));

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
