/** Who may open a console page: administrators, or approvers too (the approvals page). */
export type ConsoleRole = 'admin' | 'approver';

export interface ConsoleSection {
  path: string;
  label: string;
  role: ConsoleRole;
}

/** The console's pages in navigation order; approvers see only those with role `approver`. */
export const CONSOLE_SECTIONS: readonly ConsoleSection[] = [
  { path: '/admin', label: 'Overview', role: 'admin' },
  { path: '/admin/users', label: 'Users', role: 'admin' },
  { path: '/admin/clients', label: 'Clients', role: 'admin' },
  { path: '/admin/resources', label: 'Resources', role: 'admin' },
  { path: '/admin/keys', label: 'Signing keys', role: 'admin' },
  { path: '/admin/settings', label: 'Settings', role: 'admin' },
  { path: '/admin/export', label: 'Export and import', role: 'admin' },
  { path: '/admin/audit', label: 'Audit', role: 'admin' },
  { path: '/admin/approvals', label: 'Approvals', role: 'approver' },
];

/** Paths approvers may use besides their page: deciding on and ending elevated access. */
const APPROVER_PATHS = ['/admin/approvals', '/admin/elevations'];

/** Paths anyone may reach: signing in and out, the stylesheet. */
export const OPEN_PATHS = ['/admin/sign-in', '/admin/sign-out', '/admin/assets'];

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The role a console path needs; undefined for the open ones. Everything else is for admins. */
export function roleForPath(path: string): ConsoleRole | undefined {
  if (OPEN_PATHS.some((prefix) => under(path, prefix))) return undefined;
  return APPROVER_PATHS.some((prefix) => under(path, prefix)) ? 'approver' : 'admin';
}

export function hasRole(roles: readonly string[], role: ConsoleRole): boolean {
  return roles.includes('admin') || (role === 'approver' && roles.includes('approver'));
}
