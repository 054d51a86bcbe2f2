/** The one place S3 clients are configured (checksum mode, timeouts, retries); serving, training and tests use it. */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { S3_DEFAULTS, type S3ClientOptions } from './s3-options.ts';

export { S3_DEFAULTS, type S3ClientOptions } from './s3-options.ts';

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const region = options.region ?? process.env.AWS_REGION ?? (options.endpoint ? 'us-east-1' : undefined);
  const config: S3ClientConfig = {
    // Stream uploads are silently corrupted with the SDK's default flexible checksums on some stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    followRegionRedirects: true,
    maxAttempts: options.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? S3_DEFAULTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      socketTimeout: options.socketTimeoutMs ?? S3_DEFAULTS.socketTimeoutMs,
    },
  };
  if (region) config.region = region;
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
  }
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}
