import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named auditPage from this file. */
export const auditPage = placeholderPage('/admin/audit');
