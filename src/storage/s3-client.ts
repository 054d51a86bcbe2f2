/** The one place S3 clients are configured (checksum mode, timeouts, retries); serving, training and tests use it. */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** An S3-compatible endpoint (s3rver, MinIO); implies path-style addressing. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** TCP connect limit per attempt. */
  connectionTimeoutMs?: number;
  /** Limit per attempt until the response headers arrive. */
  requestTimeoutMs?: number;
  /** Limit on inactivity while a body streams (a paused consumer counts as inactive). */
  socketTimeoutMs?: number;
  maxAttempts?: number;
}

/** Cold start budget: a stalled S3 request fails in seconds and is retried, not waited on for minutes. */
export const S3_DEFAULTS = {
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 5000,
  socketTimeoutMs: 10_000,
  maxAttempts: 3,
} as const;

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
