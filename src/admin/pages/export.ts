import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named exportPage from this file. */
export const exportPage = placeholderPage('/admin/export');
