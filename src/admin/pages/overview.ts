import { placeholderPage } from '../placeholder-page.ts';

export const overviewPage = placeholderPage('/admin');
