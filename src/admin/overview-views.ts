import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { dataTable, renderConsolePage } from './layout.ts';
import type { OverviewFacts } from './services/overview.ts';

const time = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
const bytes = (count: number) => (count < 1024 * 1024 ? `${(count / 1024).toFixed(1)} KiB` : `${(count / 1024 / 1024).toFixed(1)} MiB`);
const KEY_SOURCES: Record<string, string> = {
  env: 'RSA_PRIVATE_KEY_PEM (environment)', file: 'a mounted file (RSA_PRIVATE_KEY_PATH)', 'keys-dir': 'the keys directory (KEYS_DIR)', generated: 'the keys directory (KEYS_DIR), generated at first start', store: 'the shared store (Redis), encrypted with COOKIE_KEYS',
};
const ok = (good: boolean, yes: string, no: string) => html`<span class="badge ${good ? 'ok' : 'bad'}">${good ? yes : no}</span>`;

function tile(label: string, value: string | number, detail: SafeHtml | string = ''): SafeHtml {
  return html`<div class="panel"><div class="muted">${label}</div><div class="stat">${String(value)}</div>${detail ? html`<div class="muted">${detail}</div>` : ''}</div>`;
}

/** The words for who did what in one audit record, without anything a record should not show. */
function who(event: Record<string, unknown>): string {
  const actor = typeof event.actor === 'string' ? event.actor : typeof event.username === 'string' ? event.username : event.subject;
  return typeof actor === 'string' ? actor : '-';
}

function what(event: Record<string, unknown>): string {
  const parts = ['client', 'username', 'user', 'resource', 'tool', 'reason'].flatMap((key) => {
    const value = event[key];
    if (key === 'username' && event.actor === undefined) return [];
    return typeof value === 'string' && value ? [`${key} ${value}`] : [];
  });
  return parts.join(', ').slice(0, 160);
}

export function renderOverview(viewer: ConsoleViewer, facts: OverviewFacts, auditStatus?: SafeHtml): string {
  const { counts, audit } = facts;
  return renderConsolePage({ title: 'Overview', viewer, body: html`
<div class="grid">
  ${tile('Store', facts.store.engine, ok(facts.store.reachable, 'answering', 'not answering'))}
  ${audit
    ? tile('Audit log', `${audit.records} records`, html`${bytes(audit.bytes)} · ${audit.lastCheckpoint ? html`last checkpoint at ${audit.lastCheckpoint.size}, ${time(audit.lastCheckpoint.writtenAt)}` : 'no checkpoint yet'}${auditStatus ? html`<br>${auditStatus}` : ''}`)
    : tile('Audit log', 'off', html`<span class="badge bad">AUDIT=off: nothing is recorded</span>`)}
  ${tile('Users', counts.users, `${counts.admins} admin${counts.admins === 1 ? '' : 's'}, ${counts.disabledUsers} disabled`)}
  ${tile('Clients', counts.staticClients + counts.storedClients, `${counts.staticClients} from the configuration file, ${counts.storedClients} added or registered`)}
  ${tile('Waiting for approval', counts.pendingApprovals, html`<a href="/admin/approvals">Approvals</a> · ${counts.activeElevations} elevated now`)}
</div>
<section class="panel">
<h2>Signing keys</h2>
<table class="facts">
<tr><th scope="row">Signs new tokens</th><td><code>${facts.keys.current}</code></td></tr>
<tr><th scope="row">Published</th><td>${facts.keys.published.map((kid, index) => html`${index ? ', ' : ''}<code>${kid}</code>`)}</td></tr>
<tr><th scope="row">Kept in</th><td>${KEY_SOURCES[facts.keys.source] ?? facts.keys.source}</td></tr>
</table>
</section>
<section class="panel">
<h2>Recent events</h2>
${facts.recent.length === 0 ? html`<p class="muted">${audit ? 'Nothing recorded yet.' : 'The audit log is off.'}</p>` : dataTable(['#', 'When', 'Event', 'Who', 'Details'], facts.recent.map((record) => html`
<tr><td>${String(record.seq)}</td><td>${time(record.time)}</td><td><code>${record.event.type}</code></td><td>${who(record.event)}</td><td class="muted">${what(record.event)}</td></tr>`))}
</section>` });
}
