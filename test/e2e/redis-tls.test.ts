import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProject } from '../support/processes.ts';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.ts';
import { makeTestCertificates, type TestCertificates } from '../support/tls.ts';

describe('Redis over TLS (rediss://)', () => {
  let certificates: TestCertificates;
  let redis: OwnRedis;
  let root: string;

  before(async () => {
    certificates = makeTestCertificates();
    root = await mkdtemp(join(tmpdir(), 'portcullis-rediss-'));
    const [certFile, keyFile] = [join(root, 'redis.pem'), join(root, 'redis.key')];
    await writeFile(certFile, certificates.cert);
    await writeFile(keyFile, certificates.key, { mode: 0o600 });
    redis = await startOwnRedis({ certFile, keyFile });
  });

  after(async () => {
    await redis?.stop();
    certificates?.remove();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps state in a Redis reached over TLS, verifying its certificate against a CA given by NODE_EXTRA_CA_CERTS', async () => {
    const env = { REDIS_URL: redis.url, DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys') };
    const trusted = { ...env, NODE_EXTRA_CA_CERTS: certificates.caFile };

    const added = await runProject('src/cli/main.ts', ['users', 'add', 'tls-user', '--password-stdin'], { env: trusted, input: 'a-long-enough-password\n' });
    assert.equal(added.code, 0, added.stderr);
    const listed = await runProject('src/cli/main.ts', ['users', 'list', '--json'], { env: trusted });
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((user) => user.name), ['tls-user']);

    const untrusted = await runProject('src/cli/main.ts', ['users', 'list'], { env });
    assert.notEqual(untrusted.code, 0, 'a certificate from an unknown CA is refused');
    assert.match(untrusted.stderr, /^portcullis: redis store unavailable \(REDIS_URL=rediss:.*certificate/);
  });
});
