import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Config } from '../../config/index.ts';
import { CHECKPOINT_PATTERN, SEGMENT_PATTERN } from '../records.ts';
import { s3ClientFromEnvironment } from './client.ts';
import { fileNameOf } from './object-key.ts';
import { s3Prefix } from './prefix.ts';

export interface AuditCopy {
  dir: string;
  remove(): Promise<void>;
}

/** Copies the log's objects from S3 into a temporary directory, checking each body against its stored SHA-256. */
export async function downloadAuditCopy(config: Config, logName?: string, client: S3Client = s3ClientFromEnvironment()): Promise<AuditCopy> {
  if (!config.auditS3Bucket) throw new ConfigError('AUDIT_S3_BUCKET', 'is not set, so there is no S3 copy to verify');
  const bucket = config.auditS3Bucket;
  const prefix = s3Prefix(config.auditS3Prefix, logName);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-s3-'));
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : undefined, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const name = fileNameOf(prefix, object.Key ?? '');
        if (!name || !(SEGMENT_PATTERN.test(name) || CHECKPOINT_PATTERN.test(name))) continue;
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key, ChecksumMode: 'ENABLED' }));
        const sha256 = await saveBody(response.Body as AsyncIterable<Uint8Array>, join(dir, name));
        if (response.ChecksumSHA256 && sha256 !== response.ChecksumSHA256) throw new Error(`${object.Key}: the body does not match its stored SHA-256`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes an object's body to a file as it arrives (a segment can be 64 MiB); returns its SHA-256, base64. */
async function saveBody(body: AsyncIterable<Uint8Array>, path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'w', 0o600);
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      await file.writeFile(chunk);
    }
  } finally {
    await file.close();
  }
  return hash.digest('base64');
}
