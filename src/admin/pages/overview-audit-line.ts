import type { SafeHtml } from '../../authorization-server/interactions/html.ts';
import type { ConsoleDeps } from '../console-page.ts';

/**
 * One line under the Overview's audit-log tile about the log's last verification. The Audit page
 * replaces this file (re-exporting its own function under this name); until then there is none.
 */
export const auditStatusLine: (deps: ConsoleDeps) => Promise<SafeHtml | undefined> = async () => undefined;
