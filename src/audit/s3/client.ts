import { S3Client } from '@aws-sdk/client-s3';

/**
 * An S3 client from the standard AWS environment (AWS_REGION, credentials chain). With
 * AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) it talks to that S3-compatible store, path-style.
 * Retries are ours (the shipper backs off without limit), so the SDK tries once.
 */
export function s3ClientFromEnvironment(env: Record<string, string | undefined> = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    maxAttempts: 1,
    // We send ChecksumSHA256 ourselves; no extra trailing checksums that S3-compatible stores may not know.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
