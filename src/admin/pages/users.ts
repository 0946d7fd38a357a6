import { placeholderPage } from '../placeholder-page.ts';

export const usersPage = placeholderPage('/admin/users');
