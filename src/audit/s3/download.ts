import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
        const body = Buffer.from(await response.Body!.transformToByteArray());
        if (response.ChecksumSHA256 && createHash('sha256').update(body).digest('base64') !== response.ChecksumSHA256) {
          throw new Error(`${object.Key}: the body does not match its stored SHA-256`);
        }
        await writeFile(join(dir, name), body);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
