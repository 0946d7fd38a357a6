import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named keysPage from this file. */
export const keysPage = placeholderPage('/admin/keys');
