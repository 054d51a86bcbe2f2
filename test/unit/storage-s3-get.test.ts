/** When whole-object reads may skip the AWS SDK (src/storage/s3-get.ts fastGetConfig), read as the SDK reads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastGetConfig } from '../../src/storage/s3-get.ts';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'SECRET' };

test('Lambda’s environment (credentials, session token, region) is enough; the endpoint is AWS’s own', () => {
  const config = fastGetConfig({}, { ...KEYS, AWS_SESSION_TOKEN: 'TOKEN', AWS_REGION: 'eu-west-1' });
  assert.equal(config?.region, 'eu-west-1');
  assert.equal(config?.endpoint, null);
});

test('without credentials or a region outside the SDK’s provider chain, only the SDK applies', () => {
  assert.equal(fastGetConfig({}, { AWS_REGION: 'eu-west-1' }), null);
  assert.equal(fastGetConfig({}, KEYS), null);
  assert.equal(fastGetConfig({}, { ...KEYS, AWS_ACCESS_KEY_ID: '', AWS_REGION: 'eu-west-1' }), null);
});

test('FIPS and dual-stack endpoints are left to the SDK', () => {
  const env = { ...KEYS, AWS_REGION: 'us-east-1' };
  assert.equal(fastGetConfig({}, { ...env, AWS_USE_FIPS_ENDPOINT: 'true' }), null);
  assert.equal(fastGetConfig({}, { ...env, AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' }), null);
  assert.ok(fastGetConfig({}, { ...env, AWS_USE_FIPS_ENDPOINT: 'false' }));
});

test('endpoints in the SDK’s order: the option, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; ignorable', () => {
  const env = { ...KEYS, AWS_ENDPOINT_URL: 'http://global:1', AWS_ENDPOINT_URL_S3: 'http://s3:2' };
  assert.equal(fastGetConfig({ endpoint: 'http://option:3' }, env)?.endpoint?.host, 'option:3');
  assert.equal(fastGetConfig({}, env)?.endpoint?.host, 's3:2');
  assert.equal(fastGetConfig({}, { ...env, AWS_ENDPOINT_URL_S3: undefined })?.endpoint?.host, 'global:1');
  // An endpoint without a region signs for us-east-1, as createS3Client does.
  assert.equal(fastGetConfig({}, env)?.region, 'us-east-1');
  const ignored = fastGetConfig(
    {},
    { ...env, AWS_REGION: 'eu-west-1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
  );
  assert.equal(ignored?.endpoint, null);
});

test('explicit options win over the environment', () => {
  const config = fastGetConfig(
    { region: 'ap-south-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, requestTimeoutMs: 77 },
    { AWS_REGION: 'eu-west-1' },
  );
  assert.equal(config?.region, 'ap-south-1');
  assert.equal(config?.requestTimeoutMs, 77);
});
