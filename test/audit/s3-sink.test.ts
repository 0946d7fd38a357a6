import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Config } from '../../src/config/index.ts';
import { AuditLog, verifierKey, verifyLog } from '../../src/audit/index.ts';
import { downloadAuditCopy } from '../../src/audit/s3/download.ts';
import { S3Shipper, UPLOADED_MANIFEST } from '../../src/audit/s3/shipper.ts';
import { createLogger } from '../../src/log/index.ts';
import { runProject } from '../support/processes.ts';
import { BUCKET, capturingClient, startLoopbackS3, type LoopbackS3 } from '../support/s3.ts';
import { loginEvent, ORIGIN, tempDir, testLog } from './support.ts';

const PREFIX = 'prod/audit';
const NOW = new Date('2026-03-04T05:06:07.000Z');

/** A logger that resolves `failed` at the first failed upload it is told about. */
function uploadFailureLogger() {
  let resolve!: () => void;
  const failed = new Promise<void>((done) => { resolve = done; });
  const log = createLogger({ level: 'warn', destination: { write: (line: string) => { if (line.includes('audit upload to S3 failed')) resolve(); } } });
  return { log, failed };
}

describe('S3 Object Lock shipping', () => {
  let s3: LoopbackS3;
  after(() => s3?.stop().catch(() => {}));

  test('uploads sealed segments and checkpoints with lock headers and SHA-256, and loses nothing through an outage', async () => {
    s3 = await startLoopbackS3(await tempDir('portcullis-s3rver-'));
    const { client, sent } = capturingClient(s3.port);
    const fixture = await testLog({ segmentMaxRecords: 3, checkpointEveryRecords: 3 });
    const { log: logger, failed } = uploadFailureLogger();
    const shipperFor = () => new S3Shipper({
      client, bucket: BUCKET, prefix: PREFIX, lockMode: 'COMPLIANCE', retentionDays: 30, dir: fixture.dir, log: logger, minDelayMs: 20, maxDelayMs: 200, now: () => NOW,
    });
    let shipper = shipperFor();
    const open = () => AuditLog.open({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: logger, segmentMaxRecords: 3, checkpointEveryRecords: 3, now: () => NOW, onImmutableFile: (name) => shipper.enqueue(name) });
    let log = await open();
    for (let index = 0; index < 7; index += 1) await log.append(loginEvent(index));
    await shipper.idle();

    const puts = sent.filter((request) => request.method === 'PUT');
    // Segments are filed under the day of their first record, checkpoints under the day they were written.
    const checkpointDay = async (name: string) => (await stat(join(fixture.dir, name))).mtime.toISOString().replace(/^(\d{4})-(\d{2})-(\d{2}).*$/, 'year=$1/month=$2/day=$3');
    assert.deepEqual(puts.map((request) => request.path).sort(), [
      `/${BUCKET}/${PREFIX}/${await checkpointDay('checkpoint-000000000003.note')}/checkpoint-000000000003.note`,
      `/${BUCKET}/${PREFIX}/${await checkpointDay('checkpoint-000000000006.note')}/checkpoint-000000000006.note`,
      `/${BUCKET}/${PREFIX}/year=2026/month=03/day=04/segment-000000000000.jsonl`,
      `/${BUCKET}/${PREFIX}/year=2026/month=03/day=04/segment-000000000003.jsonl`,
    ].sort());
    for (const request of puts) {
      const local = await readFile(join(fixture.dir, request.path.split('/').at(-1)!));
      assert.equal(request.headers['x-amz-object-lock-mode'], 'COMPLIANCE');
      assert.equal(request.headers['x-amz-object-lock-retain-until-date'], '2026-04-03T05:06:07Z');
      assert.equal(request.headers['x-amz-checksum-sha256'], createHash('sha256').update(local).digest('base64'));
    }

    // Outage: S3 is down while segments are sealed and the log closes; the server restarts before S3 is back.
    await s3.stop();
    for (let index = 7; index < 13; index += 1) await log.append(loginEvent(index));
    await failed;
    await log.close();
    await shipper.close();
    const listed = await readFile(join(fixture.dir, UPLOADED_MANIFEST), 'utf8');
    assert.doesNotMatch(listed, /segment-000000000006/, 'not confirmed, so not listed');
    assert.ok((await readdir(fixture.dir)).includes('segment-000000000006.jsonl'), 'the local segment is kept');

    await s3.restart();
    shipper = shipperFor();
    log = await open();
    await shipper.start();
    await shipper.idle();
    await log.close();
    await shipper.idle();

    const copy = await downloadAuditCopy({ auditS3Bucket: BUCKET, auditS3Prefix: PREFIX } as Config, undefined, client);
    try {
      const names = (await readdir(copy.dir)).sort();
      assert.deepEqual(names, [
        'checkpoint-000000000003.note', 'checkpoint-000000000006.note', 'checkpoint-000000000009.note', 'checkpoint-000000000012.note', 'checkpoint-000000000013.note',
        'segment-000000000000.jsonl', 'segment-000000000003.jsonl', 'segment-000000000006.jsonl', 'segment-000000000009.jsonl',
      ]);
      const report = await verifyLog({ dir: copy.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key), partialTail: true });
      assert.equal(report.ok, true, JSON.stringify(report.failure));
      assert.equal(report.lastSeq, 11, 'every sealed record is in S3');
      assert.equal(report.beyondEnd, 1, 'the newest checkpoint covers the active segment, not uploaded yet');
    } finally {
      await copy.remove();
    }

    const cli = await runProject('src/cli/main.ts', ['audit', 'verify', '--source', 's3', '--key', verifierKey(ORIGIN, createPublicKey(fixture.key))], {
      env: {
        AUDIT_S3_BUCKET: BUCKET, AUDIT_S3_PREFIX: PREFIX, AWS_ENDPOINT_URL: `http://127.0.0.1:${s3.port}`, AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', DATA_DIR: join(fixture.dir, '..', 'unused'),
      },
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^audit log OK: records 0\.\.11, 4 checkpoints verified; 1 checkpoints cover records not uploaded yet\n$/);
  });
});
