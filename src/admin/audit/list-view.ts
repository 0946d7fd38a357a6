import { AUDIT_EVENT_TYPES, type AuditRecord } from '../../audit/index.ts';
import { html, type SafeHtml } from '../../authorization-server/interactions/html.ts';
import type { ConsoleViewer } from '../console-guard.ts';
import { consoleForm, dataTable } from '../layout.ts';
import { DEFAULT_PAGE_SIZE, FIELD_LABELS, MAX_PAGE_SIZE, type FilterField, type FilterValues } from './filters.ts';
import { auditStatusFacts, utc, type AuditLogStatus } from './log-status.ts';

export interface AuditListView {
  viewer: ConsoleViewer;
  status: AuditLogStatus;
  values: FilterValues;
  /** The field a bad value was typed in, and what is wrong with it. */
  invalid?: { field: FilterField; problem: string } | undefined;
  /** Undefined when the filters were refused. */
  records?: AuditRecord[] | undefined;
  /** The `before` of the next, older page. */
  next?: number | undefined;
}

/** The Audit page: the log's verification status, the filter form and one page of records, newest first. */
export function auditListBody(view: AuditListView): SafeHtml {
  return html`<section class="panel">
<h2>Verification</h2>
<p class="muted">This is the authorization server's own log: sign-ins, consents, tokens, elevated access and console actions. The demo MCP server keeps a separate log of its tool calls; read it with <code>portcullis audit query --log notes-mcp</code>.</p>
${auditStatusFacts(view.status)}
${view.status.enabled ? consoleForm(view.viewer, '/admin/audit/verify', html`<button type="submit" class="primary">Verify now</button>`, { layout: 'inline' }) : ''}
</section>
<section class="panel">
<h2>Find records</h2>
<form method="get" action="/admin/audit">
<div class="grid">
${field(view, 'from', 'date', 'From the start of that day (UTC)')}
${field(view, 'to', 'date', 'To the end of that day (UTC)')}
${field(view, 'type', 'text', 'For example login.failed', 'audit-event-types')}
${field(view, 'subject', 'text', 'A user id')}
${field(view, 'client', 'text', 'A client id')}
${field(view, 'tool', 'text', 'An MCP tool name')}
${field(view, 'size', 'number', `1 to ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when empty`)}
</div>
<datalist id="audit-event-types">${AUDIT_EVENT_TYPES.map((type) => html`<option value="${type}"></option>`)}</datalist>
<div class="actions"><button type="submit" class="primary">Search</button><a href="/admin/audit">Clear</a></div>
</form>
</section>
${view.records ? results(view, view.records) : ''}`;
}

function field(view: AuditListView, name: FilterField, type: 'date' | 'text' | 'number', hint: string, list?: string): SafeHtml {
  const invalid = view.invalid?.field === name;
  // A typed date-time does not fit <input type="date">: show it in a text field so it is not lost.
  const inputType = type === 'date' && view.values[name] && !/^\d{4}-\d{2}-\d{2}$/.test(view.values[name]) ? 'text' : type;
  return html`<div>
<label for="audit-${name}">${FIELD_LABELS[name]}</label>
<input id="audit-${name}" name="${name}" type="${inputType}" value="${view.values[name]}"${type === 'number' ? html` min="1" max="${MAX_PAGE_SIZE}"` : ''}${list ? html` list="${list}"` : ''} aria-describedby="audit-${name}-hint"${invalid ? html` aria-invalid="true"` : ''}>
<p class="muted" id="audit-${name}-hint">${hint}</p>
${invalid ? html`<p class="field-error" role="alert">${view.invalid!.problem}</p>` : ''}
</div>`;
}

function results(view: AuditListView, records: AuditRecord[]): SafeHtml {
  const filters = new URLSearchParams(Object.entries(view.values).filter(([name, value]) => value && name !== 'before'));
  const pageLink = (before: number) => `/admin/audit?${new URLSearchParams([...filters, ['before', String(before)]]).toString()}`;
  const cells = (record: AuditRecord): Array<[string, SafeHtml | string]> => [
    ['No.', html`<a href="/admin/audit/records/${record.seq}">${record.seq}</a>`], ['Time', utc(new Date(record.time))], ['Event', record.event.type],
    ['Subject', text(record.event.subject)], ['Client', text(record.event.client)], ['Tool', text(record.event.tool)],
  ];
  const rows = records.map((record) => html`<tr>${cells(record).map(([label, value]) => html`<td data-label="${label}">${value}</td>`)}</tr>`);
  const links = [
    view.values.before ? html`<a href="/admin/audit${filters.size ? `?${filters.toString()}` : ''}">Newest records</a>` : '',
    view.next !== undefined ? html`<a href="${pageLink(view.next)}">Older records</a>` : '',
  ].filter((link) => link !== '');
  return html`<section class="panel">
<h2>Records, newest first</h2>
${records.length === 0 ? html`<p>No records match${view.values.before ? ' on this page' : ''}.</p>` : html`<div class="audit-records">${dataTable(['No.', 'Time', 'Event', 'Subject', 'Client', 'Tool'], rows)}</div>`}
${links.length ? html`<p class="actions">${links}</p>` : ''}
</section>`;
}

const text = (value: unknown): string => (value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value));
