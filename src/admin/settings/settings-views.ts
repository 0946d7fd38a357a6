import { html, type SafeHtml } from '../../authorization-server/interactions/html.ts';
import { displayValue, type Change, type FieldError, type SettingDescription } from '../../settings/index.ts';
import type { ConsoleViewer } from '../console-guard.ts';
import { consoleForm, dataTable, passwordAgainField } from '../layout.ts';

const SOURCE_WORDS: Record<SettingDescription['source'], string> = {
  default: 'Default',
  stored: 'Changed here',
  environment: 'Fixed by the environment',
  'config file': 'Fixed by the configuration file',
};

/** The text a field shows: lists comma-separated, an empty host list empty. */
export function formValue(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

export interface SettingsFormView {
  settings: SettingDescription[];
  version: number;
  viewer: ConsoleViewer;
  /** What the operator typed, shown again next to the errors. */
  submitted?: Record<string, string>;
  errors?: FieldError[];
}

/** Every setting with its value, source and allowed range; the editable ones in one form. */
export function settingsForm(view: SettingsFormView): SafeHtml {
  const errorOf = (name: string) => view.errors?.find((error) => error.name === name);
  const groups = [...new Set(view.settings.map((setting) => setting.group))];
  return html`
<p>Changes apply on every server within 30 seconds, without a restart, and are recorded in the audit log.
Settings given in the environment or the configuration file are fixed here: change them there.</p>
${view.errors?.length ? html`<div class="banner error" role="alert"><p>Nothing was changed. Please correct:</p><ul>${view.errors.map((error) => html`<li><strong>${error.name}</strong> ${error.message}${error.allowed ? html` (allowed: ${error.allowed})` : ''}</li>`)}</ul></div>` : ''}
${consoleForm(view.viewer, '/admin/settings/review', html`
  <input type="hidden" name="version" value="${view.version}">
  ${groups.map((group) => html`
  <fieldset class="panel settings-group">
    <legend>${group}</legend>
    ${view.settings.filter((setting) => setting.group === group).map((setting) => settingRow(setting, view.submitted?.[setting.name], errorOf(setting.name)))}
  </fieldset>`)}
  <div class="actions"><button type="submit" class="primary">Review changes</button></div>`)}`;
}

function settingRow(setting: SettingDescription, submitted: string | undefined, error: FieldError | undefined): SafeHtml {
  const id = `setting-${setting.name}`;
  const describedBy = `${id}-about`;
  const value = submitted ?? formValue(setting.value);
  const about = html`<small id="${describedBy}" class="muted"><code>${setting.name}</code> · ${SOURCE_WORDS[setting.source]}${setting.changedBy ? html` by ${setting.changedBy}${setting.changedAt ? html` at ${setting.changedAt.slice(0, 16).replace('T', ' ')} UTC` : ''}` : ''} · Allowed: ${setting.allowed}</small>`;
  if (!setting.editable) {
    return html`<div class="settings-field" id="${id}"><span class="settings-label">${setting.label}</span><strong>${setting.display}</strong> <span class="badge warn">${SOURCE_WORDS[setting.source]}</span>${about}</div>`;
  }
  const options = /^one of (.+)$/.exec(setting.allowed)?.[1]?.split(', ');
  const invalid = error ? html` aria-invalid="true"` : '';
  const control = options
    ? html`<select id="${id}-input" name="${setting.name}" aria-describedby="${describedBy}"${invalid}>${options.map((option) => html`<option value="${option}"${option === value ? html` selected` : ''}>${option}</option>`)}</select>`
    : html`<input id="${id}-input" name="${setting.name}" value="${value}" aria-describedby="${describedBy}" autocomplete="off" spellcheck="false"${invalid}>`;
  return html`<div class="settings-field" id="${id}"><label for="${id}-input">${setting.label}</label>${control}${error ? html`<span class="field-error">${error.message}</span>` : ''}${about}</div>`;
}

function changesTable(changes: Change[], labels: Map<string, string>, headers = ['Setting', 'Now', 'After']): SafeHtml {
  return html`<div class="settings-diff">${dataTable(headers, changes.map((change) => html`<tr><th scope="row">${labels.get(change.name) ?? change.name}<br><small><code>${change.name}</code></small></th><td>${displayValue(change.name, change.before)}</td><td><strong>${displayValue(change.name, change.after)}</strong></td></tr>`))}</div>`;
}

export interface ReviewView {
  changes: Change[];
  settings: SettingDescription[];
  version: number;
  viewer: ConsoleViewer;
  /** The change needs the password again (posted to /apply-with-password). */
  reauth: boolean;
}

/** The diff to confirm; the form carries the same values and the version they were made against. */
export function reviewChanges(view: ReviewView): SafeHtml {
  const labels = new Map(view.settings.map((setting) => [setting.name, setting.label]));
  return html`
<p>Please check these changes. They apply on every server within 30 seconds.</p>
${changesTable(view.changes, labels)}
${consoleForm(view.viewer, view.reauth ? '/admin/settings/apply-with-password' : '/admin/settings/apply', html`
  <input type="hidden" name="version" value="${view.version}">
  ${view.changes.map((change) => html`<input type="hidden" name="${change.name}" value="${formValue(change.after)}">`)}
  ${view.reauth ? passwordAgainField() : ''}
  <div class="actions"><button type="submit" class="primary">Apply these changes</button> <a href="/admin/settings">Back without changing anything</a></div>`)}`;
}

export interface ConflictView {
  /** What this operator wanted, compared with the values now in force. */
  wanted: Change[];
  settings: SettingDescription[];
}

/** Someone else changed the settings first: nothing applied, and what stands now. */
export function settingsConflict(view: ConflictView): SafeHtml {
  const labels = new Map(view.settings.map((setting) => [setting.name, setting.label]));
  return html`
<p class="banner error" role="alert">Someone else changed the settings while you were editing them. Nothing of your change was applied.</p>
${view.wanted.length
    ? html`<p>What you wanted, compared with the values in force now:</p>${changesTable(view.wanted, labels, ['Setting', 'In force now', 'You wanted'])}`
    : html`<p>The values in force now are already what you wanted.</p>`}
<p><a href="/admin/settings">Look at the current settings and try again</a></p>`;
}
