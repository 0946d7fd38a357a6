import type { ConsolePage } from './console-page.ts';
import { approvalsPage } from './pages/approvals.ts';
import { auditPage } from './pages/audit.ts';
import { clientsPage } from './pages/clients.ts';
import { exportPage } from './pages/export.ts';
import { keysPage } from './pages/keys.ts';
import { overviewPage } from './pages/overview.ts';
import { resourcesPage } from './pages/resources.ts';
import { settingsPage } from './pages/settings.ts';
import { usersPage } from './pages/users.ts';

/** Every console page; each file in src/admin/pages/ exports one. The navigation is src/admin/navigation.ts. */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  overviewPage, usersPage, clientsPage, resourcesPage, keysPage, settingsPage, exportPage, auditPage, approvalsPage,
];
