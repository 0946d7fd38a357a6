import type { AuditRecord, CheckedProof } from '../../audit/index.ts';
import { html, type SafeHtml } from '../../authorization-server/interactions/html.ts';
import type { ConsoleMessage } from '../layout.ts';
import { utc } from './log-status.ts';

/** What checking the proof just now said, in one sentence. */
export function proofMessage(checked: CheckedProof): ConsoleMessage {
  if (checked.status === 'verified') return { kind: 'notice', text: `This record is in the signed log of ${checked.proof.tree_size} records: verified just now.` };
  if (checked.status === 'not_signed_yet') return { kind: 'notice', text: 'This record is newer than the newest checkpoint: the next checkpoint signs it (within a minute). Reload then.' };
  return { kind: 'error', text: `This record could not be verified: ${checked.problem}.` };
}

/** One record: what happened, then the inclusion proof and the signed checkpoint it leads to. */
export function recordBody(record: AuditRecord, checked: CheckedProof, verifierKey: string): SafeHtml {
  const { type, subject, client, tool, ...rest } = record.event;
  const fields: Array<[string, unknown]> = [['Event', type], ['Subject', subject], ['Client', client], ['Tool', tool], ...Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))];
  const proof = checked.status === 'not_signed_yet' ? undefined : checked.proof;
  return html`<p><a href="/admin/audit">Back to the audit log</a></p>
<section class="panel">
<h2>What happened</h2>
<table class="facts">
<tr><th scope="row">Record number</th><td>${record.seq}</td></tr>
<tr><th scope="row">Time</th><td>${utc(new Date(record.time))}</td></tr>
${fields.filter(([, value]) => value !== undefined).map(([name, value]) => html`<tr><th scope="row">${name}</th><td>${typeof value === 'string' ? value : JSON.stringify(value)}</td></tr>`)}
</table>
</section>
<section class="panel">
<h2>Proof that it is in the signed log</h2>
<p class="muted">The record's hash, combined step by step with the hashes below, gives the root hash that the checkpoint signs. Anyone with the log's verifier key can repeat this check: <code>portcullis audit proof ${record.seq}</code> prints the same proof as JSON.</p>
<table class="facts">
<tr><th scope="row">Record hash (leaf)</th><td><code>${record.leaf}</code></td></tr>
${proof ? html`<tr><th scope="row">Signed log size</th><td>${proof.tree_size} records</td></tr>` : ''}
<tr><th scope="row">Verifier key</th><td><code>${verifierKey}</code></td></tr>
</table>
${proof ? html`<h3>Hashes from the record to the signed root</h3>
${proof.inclusion_path.length ? html`<ol class="audit-hashes">${proof.inclusion_path.map((hash) => html`<li><code>${hash}</code></li>`)}</ol>` : html`<p>None: this record is the whole log.</p>`}
<h3>Signed checkpoint</h3>
<pre class="audit-note">${proof.checkpoint}</pre>` : ''}
</section>`;
}
