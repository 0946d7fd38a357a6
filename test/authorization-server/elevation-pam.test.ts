import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/audit/index.ts';
import type { PublicUser } from '../../src/authorization-server/accounts/users.ts';
import { alertSignature } from '../../src/authorization-server/elevation/alert-webhook.ts';
import { BreakGlassLimits } from '../../src/authorization-server/elevation/break-glass-limits.ts';
import { pamDecider } from '../../src/authorization-server/elevation/pam.ts';
import { ElevationRecords } from '../../src/authorization-server/elevation/records.ts';
import { ElevationService } from '../../src/authorization-server/elevation/service.ts';
import { silentLogger } from '../../src/log/index.ts';
import { embeddedStoreForSuite } from '../support/temp-store.ts';

const SECRET = 'pam-shared-secret-0123456789';
const user = (name: string, roles: string[] = []): PublicUser => ({ id: `id-${name}`, name, disabled: false, roles, createdAt: new Date().toISOString() });

describe('an external PAM system decides elevations instead of local approvers', () => {
  const holder = embeddedStoreForSuite();
  let pam: Server;
  let url: string;
  /** reason -> what the fixture PAM answers; `slow` answers after the time-out. */
  const answers = new Map<string, string>();
  const unsigned: string[] = [];
  const events: AuditEvent[] = [];
  let service: ElevationService;

  before(async () => {
    pam = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (request.headers['x-portcullis-signature'] !== alertSignature(SECRET, body)) unsigned.push(body);
        const decision = answers.get((JSON.parse(body) as { reason: string }).reason) ?? 'pending';
        const send = () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ decision }));
        if (decision === 'slow') setTimeout(send, 5000).unref();
        else send();
      });
    });
    pam.listen(0, '127.0.0.1');
    await once(pam, 'listening');
    url = `http://127.0.0.1:${(pam.address() as AddressInfo).port}/decide`;
    const log = silentLogger();
    service = new ElevationService({
      records: new ElevationRecords(holder.store), log, audit: { append: async (event) => { events.push(event); return { seq: events.length }; } },
      breakGlass: new BreakGlassLimits(holder.store, { perUserPerDay: 1, perHour: 5 }),
      pam: pamDecider({ url, secret: SECRET, timeoutMs: 1500, log }),
    });
  });
  after(async () => {
    pam.closeAllConnections();
    await new Promise<void>((resolve) => pam.close(() => resolve()));
  });

  const ask = (reason: string, answer: string) => {
    answers.set(reason, answer);
    return service.request({
      interaction: `uid-${reason.length}-${Math.random()}`, requester: user('alice'), client: { id: 'app', name: 'App' }, redirectHost: 'https://app.example',
      wanted: { resource: 'https://r.example/', scopes: ['r:admin'], rules: { maxDurationSeconds: 900, reasonRequired: true, approval: 'one-approver', breakGlass: false, approvalTimeoutSeconds: 900 } },
      durationSeconds: 600, reason, ticket: '', emergency: false,
    });
  };

  it('starts the elevation at once when the PAM approves a signed request', async () => {
    const elevation = await ask('approved by the change board', 'approve');
    assert.equal(elevation.status, 'active');
    assert.equal(elevation.approver?.name, 'external PAM');
    assert.deepEqual(unsigned, [], 'every request carried the HMAC signature of its body');
    assert.ok(events.some((event) => event.type === 'elevation.approved' && event.elevation === elevation.id && event.approver === 'external PAM'));
  });

  it('ends the request when the PAM denies it', async () => {
    assert.equal((await ask('not on the change calendar', 'deny')).status, 'denied');
  });

  it('keeps a pending request waiting, asks again on each look, and lets no local approver decide it', async () => {
    const elevation = await ask('waiting for the on-call lead', 'pending');
    assert.equal(elevation.status, 'pending');
    assert.equal(await service.decide(elevation.id, user('bob', ['approver']), 'approve'), 'external');
    answers.set('waiting for the on-call lead', 'approve');
    assert.equal((await service.current(elevation)).status, 'active');
  });

  it('grants nothing when the PAM does not answer in time (fails closed)', async () => {
    const started = Date.now();
    const elevation = await ask('the PAM is having a slow day', 'slow');
    assert.equal(elevation.status, 'pending');
    assert.ok(Date.now() - started < 4000, 'the time-out cut the wait short');
  });
});
