/**
 * How S3 is reached (endpoint, region, credentials, limits), apart from the AWS SDK so that reading this
 * costs no SDK import: the fast GET (./s3-get.ts) and the SDK client (./s3-client.ts) share it.
 */
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
