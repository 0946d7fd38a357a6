export { auditVerificationLine as auditStatusLine } from '../audit/log-status.ts';
