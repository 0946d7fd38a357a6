import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named clientsPage from this file. */
export const clientsPage = placeholderPage('/admin/clients');
