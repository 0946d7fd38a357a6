import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { OTHER_RESOURCE, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';

/** Writes a caller waits for until they are on disk (embedded engine: a WAL flush on the thread pool). */
const DURABLE_WRITES = ['put', 'putIfAbsent', 'consume', 'consumeAndPut', 'delete', 'deleteByTag'];

describe('a client_credentials grant on the embedded engine', () => {
  let server: TestServer;
  // Without the scheduled audit log check, which writes its status in the background.
  before(async () => { server = await startTestServer({ AUDIT_VERIFY_SECONDS: '0' }); });
  after(() => server.destroy());

  const grant = async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: OTHER_RESOURCE }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
  };

  const storeCalls = async () => {
    const metric = (await server.metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === 'portcullis_store_operation_duration_seconds')!;
    const calls = new Map<string, number>();
    for (const value of metric.values as Array<{ metricName?: string; labels: { operation?: string }; value: number }>) {
      if (value.metricName?.endsWith('_count')) calls.set(String(value.labels.operation), value.value);
    }
    return calls;
  };

  it('issues tokens with no store write to wait for: the rate limits count in memory, the client\'s last use is written once a minute', async () => {
    const putsAtStart = (await storeCalls()).get('put') ?? 0;
    await grant();
    // The first grant records the client's last use without waiting for it: let that write finish.
    while (((await storeCalls()).get('put') ?? 0) === putsAtStart) await nextTurn();
    const before = await storeCalls();
    for (let index = 0; index < 20; index += 1) await grant();
    const after = await storeCalls();
    const made = (operation: string) => (after.get(operation) ?? 0) - (before.get(operation) ?? 0);
    for (const operation of DURABLE_WRITES) assert.equal(made(operation), 0, `${operation} calls during 20 grants`);
    assert.ok(made('increment') >= 20, 'the rate limits still count every grant');
  });
});
