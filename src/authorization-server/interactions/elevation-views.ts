import { html } from './html.ts';
import { page } from './views.ts';

export interface ElevationFormView {
  action: string;
  csrf: string;
  clientName: string;
  resourceName: string;
  resourceUri: string;
  scopes: string[];
  redirectHost: string;
  maxDurationSeconds: number;
  reasonRequired: boolean;
  approvalRequired: boolean;
  /** The user may choose emergency access (break-glass) instead of waiting. */
  breakGlass: boolean;
  error?: string;
  values?: { durationSeconds?: number; reason?: string; ticket?: string };
}

const DURATION_CHOICES_MINUTES = [5, 10, 15, 30, 60, 120, 240, 480];

/** Choices up to the longest allowed, which is always one of them. */
export function durationChoices(maxDurationSeconds: number): number[] {
  const maxMinutes = Math.floor(maxDurationSeconds / 60);
  return [...new Set([...DURATION_CHOICES_MINUTES.filter((minutes) => minutes < maxMinutes), maxMinutes])];
}

export function renderElevationForm(view: ElevationFormView): string {
  const choices = durationChoices(view.maxDurationSeconds);
  const chosen = view.values?.durationSeconds ? Math.floor(view.values.durationSeconds / 60) : Math.min(15, choices.at(-1)!);
  return page('Elevated access', html`
<h1>Elevated access</h1>
<p><strong class="client-name">${view.clientName}</strong> asks to act with extra rights on <strong>${view.resourceName}</strong> for a limited time.</p>
<p class="muted resource-uri">${view.resourceUri}</p>
<ul class="scopes">${view.scopes.map((scope) => html`<li>${scope}</li>`)}</ul>
<p>When you are done, you will be sent to <strong class="redirect-host">${view.redirectHost}</strong>.</p>
${view.approvalRequired ? html`<p class="notice">An approver must agree before the access starts. It starts when they approve and ends on its own.</p>` : ''}
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <label for="duration">For how long</label>
  <select id="duration" name="duration">${choices.map((minutes) => html`<option value="${String(minutes)}"${minutes === chosen ? html` selected` : ''}>${minutes} minutes</option>`)}</select>
  <label for="reason">Why you need it${view.reasonRequired ? '' : ' (optional)'}</label>
  <textarea id="reason" name="reason" rows="3" maxlength="500"${view.reasonRequired ? html` required minlength="10"` : ''}>${view.values?.reason ?? ''}</textarea>
  <label for="ticket">Ticket or incident number (optional)</label>
  <input id="ticket" name="ticket" maxlength="100" value="${view.values?.ticket ?? ''}">
  <button type="submit" name="mode" value="request" class="primary">${view.approvalRequired ? 'Ask for approval' : 'Start access'}</button>
  ${view.breakGlass ? html`
  <div class="emergency">
    <h2>Emergency access</h2>
    <p class="muted">Only for an emergency when no approver can answer in time. It starts at once without approval, needs a reason of at least 20 characters, and security staff are alerted right away.</p>
    <button type="submit" name="mode" value="emergency">Use emergency access</button>
  </div>` : ''}
</form>
<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <button type="submit" name="mode" value="cancel">Cancel</button>
</form>`);
}

export interface ElevationWaitingView {
  /** This same page: it reloads itself every few seconds. */
  self: string;
  resourceName: string;
  scopes: string[];
  decideByUtc: string;
  refreshSeconds: number;
}

export function renderElevationWaiting(view: ElevationWaitingView): string {
  return page('Waiting for approval', html`
<h1>Waiting for approval</h1>
<p>Your request for extra rights on <strong>${view.resourceName}</strong> (${view.scopes.join(', ')}) waits for an approver.</p>
<p class="muted">This page checks again every ${String(view.refreshSeconds)} seconds and continues by itself once the request is decided. If nobody decides by ${view.decideByUtc} UTC, the request expires.</p>
<p><a href="${view.self}">Check now</a></p>`, html`<meta http-equiv="refresh" content="${String(view.refreshSeconds)}">
`);
}

export interface ElevationEndedView {
  action: string;
  csrf: string;
  outcome: 'denied' | 'expired' | 'revoked' | 'ended';
}

const OUTCOME_TEXT: Record<ElevationEndedView['outcome'], string> = {
  denied: 'An approver denied your request.',
  expired: 'Nobody decided on your request in time, so it expired.',
  revoked: 'This elevated access was ended by an approver.',
  ended: 'This elevated access has already ended.',
};

export function renderElevationEnded(view: ElevationEndedView): string {
  return page('No elevated access', html`
<h1>No elevated access</h1>
<p class="error" role="alert">${OUTCOME_TEXT[view.outcome]}</p>
<p>You can go back to the application and try again later.</p>
<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <button type="submit" name="mode" value="cancel" class="primary">Back to the application</button>
</form>`);
}
