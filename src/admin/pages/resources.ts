import { placeholderPage } from '../placeholder-page.ts';

/** Replaced by the page itself: export a ConsolePage named resourcesPage from this file. */
export const resourcesPage = placeholderPage('/admin/resources');
