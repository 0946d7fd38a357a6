import { newestCheckpoint, type AuditLog, type AuditVerifier, type VerificationStatus } from '../../audit/index.ts';
import { html, type SafeHtml } from '../../authorization-server/interactions/html.ts';

/** What the console says about the authorization server's audit log: its size, newest checkpoint and last check. */
export interface AuditLogStatus {
  /** False with AUDIT=off. */
  enabled: boolean;
  records: number;
  checkpoint?: { size: number; writtenAt: Date };
  verification?: VerificationStatus;
  /** AUDIT_VERIFY_SECONDS (0: only on request). */
  verifyEverySeconds: number;
}

/** For the Overview and the Audit page: cheap (a directory listing and one Store read). */
export async function auditLogStatus(deps: { auditLog: AuditLog | undefined; auditVerifier?: AuditVerifier | undefined; config: { auditVerifySeconds: number } }): Promise<AuditLogStatus> {
  const { auditLog, auditVerifier } = deps;
  if (!auditLog) return { enabled: false, records: 0, verifyEverySeconds: 0 };
  const [checkpoint, verification] = await Promise.all([newestCheckpoint(auditLog.dir), auditVerifier?.status()]);
  return {
    enabled: true, records: auditLog.size, verifyEverySeconds: deps.config.auditVerifySeconds,
    ...(checkpoint ? { checkpoint } : {}), ...(verification ? { verification } : {}),
  };
}

/** The facts table of an AuditLogStatus: records, newest checkpoint, last check and its result. */
export function auditStatusFacts(status: AuditLogStatus): SafeHtml {
  if (!status.enabled) return html`<p class="warning">The audit log is off (<code>AUDIT=off</code>): nothing is recorded.</p>`;
  const { checkpoint, verification } = status;
  return html`<table class="facts">
<tr><th scope="row">Records</th><td>${status.records}${checkpoint && status.records > checkpoint.size ? ` (the ${status.records - checkpoint.size} newest are signed at the next checkpoint)` : ''}</td></tr>
<tr><th scope="row">Newest checkpoint</th><td>${checkpoint ? html`signs ${checkpoint.size} records, written ${utc(checkpoint.writtenAt)}` : 'none yet (the first is written within a minute of the first record)'}</td></tr>
<tr><th scope="row">Last checked</th><td>${verification ? html`${utc(new Date(verification.checkedAt))} ${verification.trigger === 'schedule' ? '(scheduled)' : '(asked for by an administrator)'}` : 'not yet'}</td></tr>
<tr><th scope="row">Result</th><td>${verification ? resultBadge(verification) : html`<span class="badge">not checked yet</span>`}</td></tr>
${verification?.problem ? html`<tr><th scope="row">Problem</th><td class="error">${verification.problem}</td></tr>` : ''}
<tr><th scope="row">Schedule</th><td>${status.verifyEverySeconds > 0 ? `checked every ${everyText(status.verifyEverySeconds)}` : 'checked only when an administrator asks'}</td></tr>
</table>`;
}

/**
 * One line for the Overview's audit tile: the last check's result and when, e.g.
 * `tile('Audit log', ..., await auditVerificationLine(deps))`.
 */
export async function auditVerificationLine(deps: { auditVerifier?: AuditVerifier | undefined }): Promise<SafeHtml> {
  const verification = await deps.auditVerifier?.status();
  if (!verification) return html`<span class="badge">not checked yet</span>`;
  return html`${verification.result === 'failed' ? html`<span class="badge bad">check failed</span>` : resultBadge(verification)} · checked ${utc(new Date(verification.checkedAt))} · <a href="/admin/audit">details</a>`;
}

export function resultBadge(status: VerificationStatus): SafeHtml {
  if (status.result === 'verified') return html`<span class="badge ok">verified</span> the signed log of ${status.verified?.size} records is intact`;
  if (status.result === 'nothing_signed') return html`<span class="badge warn">nothing signed yet</span>`;
  return html`<span class="badge bad">failed</span> the log was changed or damaged; run <code>portcullis audit verify</code>`;
}

export const utc = (date: Date): string => `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

const everyText = (seconds: number): string => (seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`);
