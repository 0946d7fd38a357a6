import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import QRCode from 'qrcode';
import type { AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import { secondFactorRequired, type SecondFactorRule } from '../accounts/second-factor-policy.ts';
import type { Live } from '../../settings/index.ts';
import type { SecondFactors } from '../accounts/second-factors.ts';
import type { Passkeys } from '../accounts/passkeys.ts';
import type { PublicUser, UserDirectory } from '../accounts/users.ts';
import { recordEvent } from '../audit-trail.ts';
import type { RateLimits } from '../rate-limits/limits.ts';
import { isStoreUnavailable } from '../store-unavailable.ts';
import { csrfToken, csrfTokenValid } from '../interactions/csrf.ts';
import { FormError, readForm } from '../interactions/form.ts';
import { renderRecoveryCodesPage, renderTotpEnrolmentPage } from '../interactions/second-factor-views.ts';
import { renderErrorPage } from '../interactions/views.ts';
import { ACCOUNT_SECOND_FACTOR_PATH, renderAccountSecondFactorPage, renderSignInFirstPage } from './second-factor-views.ts';
import { signedInUser } from './signed-in-user.ts';

export interface AccountSecondFactorDependencies {
  provider: Provider;
  users: UserDirectory;
  secondFactors: SecondFactors;
  /** Read at each sign-in: a live setting. */
  rule: Live<SecondFactorRule>;
  csrfSecret: string;
  limits: Pick<RateLimits, 'loginLockout'>;
  audit: AuditSink;
  log: Logger;
  passkeys: Passkeys;
}

interface SignedIn {
  user: PublicUser;
  csrf: string;
  csrfSubject: string;
}

/** The account's second-factor section at /account/second-factor: set up or remove the app, new recovery codes. */
export function accountSecondFactorRoutes(deps: AccountSecondFactorDependencies): Router {
  const { provider, users, secondFactors, csrfSecret, limits, audit, log } = deps;
  const router = new Router({ prefix: ACCOUNT_SECOND_FACTOR_PATH });

  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      const signedIn = await signedInUser(provider, users, ctx);
      if (!signedIn) {
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = renderSignInFirstPage();
        return;
      }
      const csrfSubject = `account:${signedIn.sessionUid}`;
      ctx.state.signedIn = { user: signedIn.user, csrf: csrfToken(csrfSecret, csrfSubject), csrfSubject } satisfies SignedIn;
      await next();
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      const status = error instanceof FormError ? error.status : 500;
      if (status >= 500) log.error({ err: error, path: ctx.path }, 'account page failed');
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = renderErrorPage(status < 500 ? 'invalid_request' : 'server_error', status < 500 ? (error as Error).message : 'The server could not finish this step. Try again.');
    }
  });

  const signedIn = (ctx: Context) => ctx.state.signedIn as SignedIn;

  async function overview(ctx: Context, messages: { notice?: string; problem?: string } = {}): Promise<void> {
    const { user, csrf } = signedIn(ctx);
    ctx.type = 'html';
    ctx.body = renderAccountSecondFactorPage({
      username: user.name, csrf, status: await secondFactors.status(user.id), required: secondFactorRequired(deps.rule, user.roles),
      passkeyOptionsJson: await deps.passkeys.registrationOptions(user), ...messages,
    });
  }

  async function enrolment(ctx: Context, failed = false): Promise<void> {
    const { user, csrf } = signedIn(ctx);
    const { secret, uri } = await secondFactors.startTotpEnrolment(user.id, user.name);
    ctx.type = 'html';
    ctx.body = renderTotpEnrolmentPage({ action: `${ACCOUNT_SECOND_FACTOR_PATH}/app`, csrf, qrSvg: await QRCode.toString(uri, { type: 'svg', margin: 2 }), secret, required: false, failed });
  }

  /** The form, after its CSRF token and (when asked) the user's password are checked. */
  async function checkedForm(ctx: Context, options: { password: boolean }): Promise<URLSearchParams | undefined> {
    const { user, csrfSubject } = signedIn(ctx);
    const form = await readForm(ctx);
    if (!csrfTokenValid(csrfSecret, csrfSubject, form.get('csrf'))) throw new FormError(400, 'the form expired or was not sent from this page; go back and try again');
    if (!options.password) return form;
    const paused = await limits.loginLockout.pausedFor(user.name, ctx.ip);
    if (paused !== undefined) {
      ctx.status = 429;
      ctx.set('Retry-After', String(paused));
      await overview(ctx, { problem: `Too many wrong passwords. Try again in ${paused} seconds.` });
      return undefined;
    }
    if (!(await users.authenticate(user.name, form.get('password') ?? ''))) {
      await limits.loginLockout.failed(user.name, ctx.ip);
      ctx.status = 401;
      await overview(ctx, { problem: 'The password is not correct.' });
      return undefined;
    }
    return form;
  }

  router.get('/', (ctx) => overview(ctx));
  router.get('/app', (ctx) => enrolment(ctx));

  router.post('/app', async (ctx) => {
    const form = await checkedForm(ctx, { password: false });
    const { user } = signedIn(ctx);
    if ((await secondFactors.status(user.id)).totp) return overview(ctx, { problem: 'An authenticator app is already set up. Remove it first to use another.' });
    const codes = await secondFactors.confirmTotpEnrolment(user.id, form!.get('code') ?? '');
    if (!codes) {
      await limits.loginLockout.failed(user.name, ctx.ip);
      ctx.status = 401;
      return enrolment(ctx, true);
    }
    await recordEvent(audit, log, { type: 'second_factor.enrolled', subject: user.id, method: 'totp', during: 'account' });
    ctx.type = 'html';
    ctx.body = renderRecoveryCodesPage({ codes, next: { href: ACCOUNT_SECOND_FACTOR_PATH, label: 'I saved them, back to the second step settings' } });
  });

  router.post('/app/remove', async (ctx) => {
    if (!(await checkedForm(ctx, { password: true }))) return;
    const { user } = signedIn(ctx);
    const status = await secondFactors.status(user.id);
    if (secondFactorRequired(deps.rule, user.roles) && status.passkeys.length === 0) {
      ctx.status = 409;
      return overview(ctx, { problem: 'Your account must keep a second step. Add a passkey before you remove the app.' });
    }
    await secondFactors.removeTotp(user.id);
    await recordEvent(audit, log, { type: 'second_factor.removed', subject: user.id, method: 'totp' });
    return overview(ctx, { notice: 'The authenticator app was removed.' });
  });

  router.post('/passkeys', async (ctx) => {
    const form = await checkedForm(ctx, { password: false });
    const { user } = signedIn(ctx);
    const before = await secondFactors.status(user.id);
    if (!(await deps.passkeys.register(user.id, form!.get('response') ?? '', `Passkey ${before.passkeys.length + 1}`))) {
      ctx.status = 400;
      return overview(ctx, { problem: 'The passkey could not be added. Try again.' });
    }
    await recordEvent(audit, log, { type: 'second_factor.enrolled', subject: user.id, method: 'passkey', during: 'account' });
    if (before.totp || before.passkeys.length > 0) return overview(ctx, { notice: 'The passkey was added.' });
    const codes = await secondFactors.newRecoveryCodes(user.id);
    ctx.type = 'html';
    ctx.body = renderRecoveryCodesPage({ codes, next: { href: ACCOUNT_SECOND_FACTOR_PATH, label: 'I saved them, back to the second step settings' } });
  });

  router.post('/passkeys/remove', async (ctx) => {
    const form = await checkedForm(ctx, { password: true });
    if (!form) return;
    const { user } = signedIn(ctx);
    const status = await secondFactors.status(user.id);
    if (secondFactorRequired(deps.rule, user.roles) && !status.totp && status.passkeys.length <= 1) {
      ctx.status = 409;
      return overview(ctx, { problem: 'Your account must keep a second step. Set up another before you remove this passkey.' });
    }
    await secondFactors.removePasskey(user.id, form.get('id') ?? '');
    await recordEvent(audit, log, { type: 'second_factor.removed', subject: user.id, method: 'passkey' });
    return overview(ctx, { notice: 'The passkey was removed.' });
  });

  router.post('/recovery-codes', async (ctx) => {
    if (!(await checkedForm(ctx, { password: true }))) return;
    const { user } = signedIn(ctx);
    if (!(await secondFactors.hasAny(user.id))) return overview(ctx, { problem: 'Set up an authenticator app or a passkey first.' });
    const codes = await secondFactors.newRecoveryCodes(user.id);
    await recordEvent(audit, log, { type: 'second_factor.enrolled', subject: user.id, method: 'recovery-codes', during: 'account' });
    ctx.type = 'html';
    ctx.body = renderRecoveryCodesPage({ codes, next: { href: ACCOUNT_SECOND_FACTOR_PATH, label: 'I saved them, back to the second step settings' } });
  });

  return router;
}
