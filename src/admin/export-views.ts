import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { SignatureCheck } from '../config/index.ts';
import { shortValue } from './config-transfer/describe.ts';
import type { Difference, ImportPreview, ImportProblem, SectionDiff } from './config-transfer/index.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { consoleForm, dataTable, renderConsolePage, type ConsoleMessage } from './layout.ts';

const TITLE = 'Export and import';

export interface SigningState {
  /** CONFIG_SIGNATURE_KEY is set: imports must be signed with it. */
  verifies: boolean;
  /** It holds the private key: exports are signed. */
  signs: boolean;
  keyId?: string | undefined;
}

export interface TransferView {
  viewer: ConsoleViewer;
  signing: SigningState;
  /** The import form as it was sent, with why it was refused. */
  refused?: { text: string; preview: ImportPreview };
  message?: ConsoleMessage | undefined;
}

function signingText(signing: SigningState): string {
  if (signing.signs) return `Exports are signed with this server's key (${signing.keyId}). Only documents signed with it can be imported.`;
  if (signing.verifies) return `This server holds only the public half of its key (${signing.keyId}): exports are not signed here, and only documents signed with the key can be imported. Sign with: portcullis config sign FILE.`;
  return 'No signing key is set (CONFIG_SIGNATURE_KEY), so exports are not signed and imports are not checked for a signature.';
}

export function renderTransferPage(view: TransferView): string {
  const refused = view.refused;
  return renderConsolePage({ title: TITLE, viewer: view.viewer, message: view.message, body: html`
<section class="panel">
<h2>Export</h2>
<p>One file with the whole configuration: resources, applications (never their secrets), settings, who holds which role, and elevated-access policies.</p>
<p class="muted">${signingText(view.signing)}</p>
${consoleForm(view.viewer, '/admin/export/download', html`<button type="submit" class="primary">Download the configuration</button>`)}
</section>
<section class="panel">
<h2>Import</h2>
<p>Paste an exported configuration. You will see every change before anything is applied; then it is applied completely or not at all.</p>
${refused ? problemList(refused.preview) : ''}
${consoleForm(view.viewer, '/admin/export/preview', html`
  <label for="document">Exported configuration (JSON)</label>
  <textarea id="document" name="document" rows="14" required spellcheck="false" autocapitalize="none"${refused ? html` aria-invalid="true" aria-describedby="import-problems"` : ''}>${refused?.text ?? ''}</textarea>
  <button type="submit" class="primary">Show the changes</button>`)}
</section>` });
}

function signatureLine(check: SignatureCheck): SafeHtml {
  if (check.status === 'valid') return html`<p><span class="badge ok">signed</span> The signature is valid (key ${check.keyId}): the document is unchanged since it was signed.</p>`;
  if (check.status === 'not_checked') return html`<p><span class="badge warn">not checked</span> This server has no signing key, so the signature was not checked. Import only documents you know come from you.</p>`;
  return html`<p><span class="badge bad">refused</span> The document is refused because ${check.reason}.</p>`;
}

function problemList(preview: ImportPreview): SafeHtml {
  return html`<div id="import-problems" role="alert">
<p class="error">This document cannot be imported, so nothing was changed. ${preview.problems.length === 1 ? 'The problem:' : 'The problems:'}</p>
<ul>${preview.problems.map((problem: ImportProblem) => html`<li><code>${problem.path}</code>: ${problem.message}</li>`)}</ul>
</div>`;
}

const KIND = { added: ['Added', 'ok'], changed: ['Changed', 'warn'], removed: ['Removed', 'bad'] } as const;

function sectionPanel(section: SectionDiff): SafeHtml {
  const rows = (['added', 'changed', 'removed'] as const).flatMap((kind) => section[kind].map((entry: Difference) => html`
<tr><td><span class="badge ${KIND[kind][1]}">${KIND[kind][0]}</span></td><td>${entry.label ? html`${entry.label} <code>${entry.key}</code>` : html`<code>${entry.key}</code>`}</td><td>${entry.before === undefined ? '' : shortValue(entry.before)}</td><td>${entry.after === undefined ? '' : shortValue(entry.after)}</td></tr>`));
  return html`<section class="panel">
<h2>${section.title}</h2>
${section.fixedBy ? html`<p class="muted">Fixed by ${section.fixedBy}: an import cannot change these.</p>` : ''}
${rows.length === 0 ? html`<p class="muted">No changes.</p>` : dataTable(['Change', 'What', 'Now', 'After the import'], rows)}
</section>`;
}

const changedOrApplied = (sections: SectionDiff[]) => sections.filter((section) => !section.fixedBy || section.added.length + section.changed.length + section.removed.length > 0);

/** Sections the configuration file fixes and the document leaves as they are: one line, not a panel each. */
function unchangedFixed(sections: SectionDiff[]): SafeHtml | '' {
  const same = sections.filter((section) => section.fixedBy && section.added.length + section.changed.length + section.removed.length === 0);
  return same.length === 0 ? '' : html`<section class="panel"><h2>Fixed by the configuration file</h2><p class="muted">The same as on this server: ${same.map((section) => section.title.toLowerCase()).join('; ')}. An import cannot change these.</p></section>`;
}

export interface PreviewView {
  viewer: ConsoleViewer;
  preview: ImportPreview;
  /** The held import to confirm; absent when the document is refused. */
  pendingId?: string;
}

export function renderPreview(view: PreviewView): string {
  const { preview } = view;
  const changes = preview.sections.filter((section) => !section.fixedBy).reduce((sum, section) => sum + section.added.length + section.changed.length + section.removed.length, 0);
  const origin = preview.document ? html`<p class="muted">Exported ${preview.document.exportedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} by ${preview.document.issuer}.</p>` : '';
  const confirm = view.pendingId === undefined ? '' : html`<section class="panel">
<h2>Apply</h2>
<p>${changes === 0 ? 'The document matches this server: applying it changes nothing.' : `${changes} change${changes === 1 ? '' : 's'} will be applied together. If any part cannot be applied, none of it is.`}</p>
${consoleForm(view.viewer, '/admin/export/apply', html`<input type="hidden" name="pending" value="${view.pendingId}">`, {
    reauth: true, actions: html`<div class="actions"><button type="submit" class="primary">Apply the import</button><a href="/admin/export">Cancel</a></div>`,
  })}
</section>`;
  return renderConsolePage({ title: 'Changes of the import', current: '/admin/export', viewer: view.viewer, body: html`
<section class="panel">
${signatureLine(preview.signature)}
${origin}
${preview.ok ? html`<p>Nothing has been changed yet. Check the changes below, then apply them at the end of the page.</p>` : problemList(preview)}
</section>
${confirm}
${changedOrApplied(preview.sections).map(sectionPanel)}
${unchangedFixed(preview.sections)}
${preview.ok ? '' : html`<p><a href="/admin/export">Back to export and import</a></p>`}` });
}

export interface AppliedView {
  viewer: ConsoleViewer;
  preview: ImportPreview;
  newSecrets: Array<{ client_id: string; client_secret: string }>;
}

export function renderApplied(view: AppliedView): string {
  const secrets = view.newSecrets.length === 0 ? '' : html`<section class="panel">
<h2>New application secrets</h2>
<p class="warning">These applications had no secret on this server, so each got a new one. Copy them now: they are shown only once.</p>
${view.newSecrets.map((secret) => html`<p><code>${secret.client_id}</code></p><div class="once"><code>${secret.client_secret}</code></div>`)}
</section>`;
  return renderConsolePage({
    title: TITLE, viewer: view.viewer, message: { kind: 'notice', text: 'The import was applied. Every instance uses the new settings within a few seconds.' },
    body: html`${secrets}${view.preview.sections.filter((section) => !section.fixedBy).map(sectionPanel)}<p><a href="/admin/export">Back to export and import</a></p>`,
  });
}
