import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named settingsPage from this file. */
export const settingsPage = placeholderPage('/admin/settings');
