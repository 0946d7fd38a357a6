import Router from '@koa/router';
import type { Context } from 'koa';
import { ROLE_PATTERN, UserError, USERNAME_PATTERN } from '../../authorization-server/accounts/users.ts';
import { ConsoleRefusal, guardedForm, requireAdmin, type ConsoleViewer } from '../console-guard.ts';
import type { ConsolePage } from '../console-page.ts';
import type { ConsoleMessage } from '../layout.ts';
import { UserAdministration } from '../services/users.ts';
import { renderUser, renderUserAdded, renderUsersList, type FieldErrors } from '../users-views.ts';

/** Fixed texts for the page after a change (the query names one; nothing from it is echoed). */
const DONE: Record<string, string> = {
  disabled: 'Disabled. They are signed out everywhere and their applications lost access.',
  enabled: 'Enabled. They can sign in again.',
  roles: 'Roles saved.',
  password: 'Password changed. Their sessions and application access ended.',
  'second-factor': 'Second factor removed.',
  session: 'Session ended.',
};

const MIN_PASSWORD = 8;

/** Users: list and search, add, disable and enable, reset password, roles, second factor, sessions. */
export const usersPage: ConsolePage = (deps) => {
  const admin = new UserAdministration({ store: deps.store, audit: deps.audit, log: deps.log });
  const router = new Router({ prefix: '/admin/users' });

  router.get('/', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const search = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
    ctx.body = renderUsersList({ viewer, search, users: await admin.list(search) });
  });

  router.post('/add', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin' });
    const username = (form.get('username') ?? '').trim();
    const password = form.get('new_password') ?? '';
    const errors: FieldErrors = {};
    if (!USERNAME_PATTERN.test(username)) errors['new-username'] = 'Use 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit.';
    if (password && password.length < MIN_PASSWORD) errors['new-password'] = `Use at least ${MIN_PASSWORD} characters, or leave it empty.`;
    if (Object.keys(errors).length === 0 && (await admin.users.list()).some((user) => user.name.toLowerCase() === username.toLowerCase())) {
      errors['new-username'] = 'A user with this name exists already.';
    }
    const refuse = async () => {
      ctx.status = 400;
      ctx.body = renderUsersList({ viewer, search: '', users: await admin.list(), add: { username, errors }, message: { kind: 'error', text: 'The user was not added; see below.' } });
    };
    if (Object.keys(errors).length > 0) return refuse();
    try {
      const added = await admin.add(viewer.actor, username, password || undefined);
      ctx.body = renderUserAdded(viewer, added.user.name, added.password);
    } catch (error) {
      // Another admin took the name a moment ago.
      if (!(error instanceof UserError)) throw error;
      errors['new-username'] = 'A user with this name exists already.';
      await refuse();
    }
  });

  router.get('/:name', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const done = DONE[String(ctx.query.done ?? '')];
    await showUser(ctx, viewer, done ? { kind: 'notice', text: done } : undefined);
  });

  router.post('/:name/disable', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    const user = await target(ctx);
    if (user.id === viewer.user.id) throw new ConsoleRefusal(409, 'You cannot disable your own account; another administrator can. Nothing was changed.');
    await admin.setDisabled(viewer.actor, user.name, true);
    doneAndBack(ctx, user.name, 'disabled');
  });

  router.post('/:name/enable', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    const user = await target(ctx);
    await admin.setDisabled(viewer.actor, user.name, false);
    doneAndBack(ctx, user.name, 'enabled');
  });

  router.post('/:name/roles', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin', reauth: true });
    const user = await target(ctx);
    const other = (form.get('other_roles') ?? '').split(',').map((role) => role.trim()).filter(Boolean);
    const wrong = other.find((role) => !ROLE_PATTERN.test(role));
    if (wrong !== undefined) {
      ctx.status = 400;
      return showUser(ctx, viewer, { kind: 'error', text: 'The roles were not changed; see below.' }, { 'other-roles': `"${wrong}" is not a role name: 1-32 lower-case letters, digits, "-" and "_", starting with a letter.` });
    }
    const wanted = new Set([...form.getAll('role'), ...other]);
    const badChoice = [...wanted].find((role) => !ROLE_PATTERN.test(role));
    if (badChoice !== undefined) throw new ConsoleRefusal(400, 'The form named a role that does not exist; nothing was changed.');
    if (user.id === viewer.user.id && user.roles.includes('admin') && !wanted.has('admin')) {
      throw new ConsoleRefusal(409, 'You cannot remove your own admin role; another administrator can. Nothing was changed.');
    }
    await admin.changeRoles(viewer.actor, user.name, { add: [...wanted].filter((role) => !user.roles.includes(role)), remove: user.roles.filter((role) => !wanted.has(role)) });
    doneAndBack(ctx, user.name, 'roles');
  });

  router.post('/:name/password', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin', reauth: true });
    const user = await target(ctx);
    const password = form.get('new_password') ?? '';
    if (password && password.length < MIN_PASSWORD) {
      ctx.status = 400;
      return showUser(ctx, viewer, { kind: 'error', text: 'The password was not changed; see below.' }, { 'reset-password': `Use at least ${MIN_PASSWORD} characters, or leave it empty.` });
    }
    const reset = await admin.resetPassword(viewer.actor, user.name, password || undefined);
    if (!reset.password) return doneAndBack(ctx, user.name, 'password');
    await showUser(ctx, viewer, { kind: 'notice', text: DONE.password! }, {}, reset.password);
  });

  router.post('/:name/second-factor/reset', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin', reauth: true });
    const user = await target(ctx);
    await admin.resetSecondFactor(viewer.actor, user.name);
    doneAndBack(ctx, user.name, 'second-factor');
  });

  router.post('/:name/sessions/:handle/end', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    const user = await target(ctx);
    if (!(await admin.endSession(viewer.actor, user.name, ctx.params.handle!))) throw new ConsoleRefusal(404, 'This session has ended already; nothing was changed.');
    doneAndBack(ctx, user.name, 'session');
  });

  async function target(ctx: Context) {
    try {
      return await admin.find(ctx.params.name ?? '');
    } catch (error) {
      if (error instanceof UserError) throw new ConsoleRefusal(404, 'There is no such user.');
      throw error;
    }
  }

  async function showUser(ctx: Context, viewer: ConsoleViewer, message?: ConsoleMessage, errors: FieldErrors = {}, newPassword?: string): Promise<void> {
    const user = await target(ctx);
    ctx.type = 'html';
    ctx.body = renderUser({ viewer, user, sessions: await admin.sessions(user.name), message, errors, newPassword });
  }

  function doneAndBack(ctx: Context, name: string, done: string): void {
    ctx.status = 303;
    ctx.redirect(`/admin/users/${encodeURIComponent(name)}?done=${done}`);
  }

  return router;
};
