import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyLog } from '../../src/audit/index.ts';
import { ConfigError } from '../../src/config/index.ts';
import { ORIGIN, loginEvent, testLog } from './support.ts';

const MOVED = 'auth.moved.example/audit';

describe('one writer and a signing history per audit log', () => {
  test('a second writer on the same directory is refused, naming AUDIT_DIR and the holder, until the first closes', async () => {
    const fixture = await testLog();
    const first = await fixture.open();
    await assert.rejects(fixture.open(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.setting, 'AUDIT_DIR');
      assert.match(error.message, new RegExp(`is in use by another process \\(pid ${process.pid}\\)`));
      return true;
    });
    await first.close();
    await (await fixture.open()).close();
  });

  test('a prepared log that never starts writes nothing; appends made meanwhile wait for the start', async () => {
    const fixture = await testLog();
    await (await fixture.open()).close();
    const before = await readdir(fixture.dir);
    const prepared = await (await import('../../src/audit/index.ts')).AuditLog.prepare({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: (await import('../../src/log/index.ts')).silentLogger() });
    let settled = false;
    const appended = prepared.append(loginEvent(1)).then((result) => { settled = true; return result; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, false, 'the append waits');
    assert.deepEqual(await readdir(fixture.dir), before);
    await prepared.start();
    assert.equal((await appended).seq, 0);
    await prepared.close();
  });

  test('a log reopened under another origin records audit.origin_changed signed under both, and verifies from either origin', async () => {
    const fixture = await testLog();
    let log = await fixture.open();
    await log.append(loginEvent(0));
    await log.close();
    log = await fixture.open({ origin: MOVED });
    await log.append(loginEvent(1));
    await log.close();
    const handoverNote = await readFile(join(fixture.dir, 'checkpoint-000000000002.note'), 'utf8');
    assert.match(handoverNote, new RegExp(`^${MOVED}\\n2\\n`));
    assert.equal(handoverNote.split('\n').filter((line) => line.startsWith('\u2014 ')).length, 2, 'two signature lines');
    for (const name of [ORIGIN, MOVED]) {
      const report = await verifyLog({ dir: fixture.dir, name, publicKey: createPublicKey(fixture.key) });
      assert.equal(report.ok, true, JSON.stringify(report.failure));
      assert.equal(report.checkpoints, 3);
      assert.deepEqual(report.handovers.map((handover) => [handover.type, handover.seq]), [['audit.origin_changed', 1]]);
    }
  });

  test('a log opened with another key refuses to start, naming the key setting, and writes nothing', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    await log.append(loginEvent(0));
    await log.close();
    const before = await readdir(fixture.dir);
    const { privateKey } = generateKeyPairSync('ed25519');
    await assert.rejects(fixture.open({ signingKey: privateKey, keySetting: 'AUDIT_SIGNING_KEY_PEM' }), /^ConfigError: AUDIT_SIGNING_KEY_PEM: the audit key is not the one that signs .* restore that key, or if it is lost run portcullis audit rotate-key --old-key-lost/);
    assert.deepEqual(await readdir(fixture.dir), before);
  });

  test('after a rotation both keys verify the whole log; a checkpoint by a key nobody handed over to is named as such', async () => {
    const fixture = await testLog();
    const next = generateKeyPairSync('ed25519').privateKey;
    const log = await fixture.open();
    await log.append(loginEvent(0));
    await log.rotateKey(next);
    await log.append(loginEvent(2));
    await log.close();
    for (const key of [fixture.key, next]) {
      const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(key) });
      assert.equal(report.ok, true, JSON.stringify(report.failure));
      assert.equal(report.checkpoints, 2);
    }
    const stranger = generateKeyPairSync('ed25519').publicKey;
    const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: stranger });
    assert.equal(report.failure?.kind, 'unvouched');
    assert.match(report.failure!.problem, /^signed by auth\.test\.example\/audit key id [0-9a-f]{8}.*, a key this log never vouched for/);
  });
});
