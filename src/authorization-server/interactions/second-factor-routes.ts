import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import QRCode from 'qrcode';
import { addressSubject } from '../../http/ip-address.ts';
import type { Store } from '../../storage/index.ts';
import { secondFactorRequired, type SecondFactorRule } from '../accounts/second-factor-policy.ts';
import type { Live } from '../../settings/index.ts';
import type { SecondFactors } from '../accounts/second-factors.ts';
import type { Passkeys } from '../accounts/passkeys.ts';
import { asksForSecondFactor, signInFacts, type SecondFactorMethod } from '../accounts/sign-in-methods.ts';
import type { PublicUser } from '../accounts/users.ts';
import { recordEvent } from '../audit-trail.ts';
import { csrfToken, csrfTokenValid } from './csrf.ts';
import { FormError, readForm } from './form.ts';
import type { InteractionDependencies } from './routes.ts';
import { renderRecoveryCodesPage, renderSecondFactorPage, renderTotpEnrolmentPage } from './second-factor-views.ts';

/** The second step shares the sign-in's lockout, metrics and audit with the password step. */
export interface SecondFactorStepDependencies extends Pick<InteractionDependencies, 'provider' | 'log' | 'csrfSecret' | 'limits' | 'metrics' | 'audit'> {
  store: Store;
  secondFactors: SecondFactors;
  /** Read at each sign-in: a live setting. */
  rule: Live<SecondFactorRule>;
  passkeys: Passkeys;
}

/** Between a correct password and the second factor: who it is, and whether they just enrolled. */
export interface PendingSignIn {
  accountId: string;
  username: string;
  clientId: string;
  /** "Keep me signed in" was ticked: the session cookie outlives the browser. */
  remember?: boolean;
  /** Set once a code confirmed a new authenticator app during this sign-in. */
  enrolled?: SecondFactorMethod;
}

const PENDING_SECONDS = 3600;
const pendingKey = (uid: string) => `mfa-pending:${uid}`;

/**
 * The second step of sign-in. After the password, a user with a second factor is asked for it; a
 * user who must have one (SECOND_FACTOR_REQUIRED, or a client asking acr_values for it) and has
 * none sets up an authenticator app first. Wrong and replayed codes count toward the same lockout
 * as wrong passwords.
 */
export function secondFactorStep(deps: SecondFactorStepDependencies) {
  const { provider, store, secondFactors, csrfSecret, limits, log, audit } = deps;
  const base = (uid: string) => `/interaction/${uid}/second-factor`;

  async function pendingFor(ctx: Context): Promise<{ details: Awaited<ReturnType<Provider['interactionDetails']>>; pending: PendingSignIn }> {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const pending = (await store.get<PendingSignIn>(pendingKey(details.uid)))?.value;
    if (details.prompt.name !== 'login' || !pending) throw new FormError(400, 'this sign-in request is not waiting for a second step; start again from the application');
    return { details, pending };
  }

  async function finishSignIn(ctx: Context, uid: string, pending: PendingSignIn, method: SecondFactorMethod | undefined): Promise<void> {
    await store.delete(pendingKey(uid));
    const location = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: pending.accountId, remember: pending.remember ?? false, ...signInFacts(method) } }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(location);
  }

  async function checkedForm(ctx: Context, uid: string): Promise<URLSearchParams> {
    const form = await readForm(ctx);
    if (!csrfTokenValid(csrfSecret, uid, form.get('csrf'))) throw new FormError(400, 'the form expired or was not sent from this page; go back and try again');
    return form;
  }

  /** Seconds the sign-in is paused for this user and address, if it is. */
  async function paused(ctx: Context, pending: PendingSignIn): Promise<number | undefined> {
    return await limits.loginFailuresPerAddress.exhaustedFor(addressSubject(ctx.ip)) ?? await limits.loginLockout.pausedFor(pending.username, ctx.ip);
  }

  /** Counts a wrong or replayed code like a wrong password; returns the pause it starts, if any. */
  async function failed(ctx: Context, pending: PendingSignIn, reason: string): Promise<number | undefined> {
    deps.metrics.loginFailures.inc();
    await recordEvent(audit, log, { type: 'second_factor.failed', subject: pending.accountId, client: pending.clientId, reason, ip: ctx.ip });
    await limits.loginFailuresPerAddress.hit(addressSubject(ctx.ip));
    const pause = await limits.loginLockout.failed(pending.username, ctx.ip);
    log.info({ event: 'second_factor_failed', reason, ip: ctx.ip, ...(pause ? { pausedFor: pause } : {}) }, 'second factor refused');
    return pause;
  }

  type PageWithProblem = (ctx: Context, uid: string, pending: PendingSignIn, problem: { failed?: boolean; retryAfterSeconds?: number | undefined }) => Promise<void>;

  /**
   * One try at a second-step form. While sign-in is paused it answers 429; a failed check counts
   * like a wrong password and shows the page again. Returns the sign-in when the check passed.
   */
  async function attempt(ctx: Context, showPage: PageWithProblem, check: (pending: PendingSignIn, form: URLSearchParams, uid: string) => Promise<string | undefined>) {
    const { details, pending } = await pendingFor(ctx);
    const form = await checkedForm(ctx, details.uid);
    const pause = await paused(ctx, pending);
    const failure = pause === undefined ? await check(pending, form, details.uid) : undefined;
    const pauseNow = failure === undefined ? pause : await failed(ctx, pending, failure);
    if (pause === undefined && failure === undefined) return { details, pending };
    ctx.status = pauseNow ? 429 : 401;
    if (pauseNow) ctx.set('Retry-After', String(pauseNow));
    await showPage(ctx, details.uid, pending, pauseNow ? { retryAfterSeconds: pauseNow } : { failed: true });
    return undefined;
  }

  async function succeeded(ctx: Context, uid: string, pending: PendingSignIn, method: SecondFactorMethod): Promise<void> {
    await limits.loginLockout.succeeded(pending.username, ctx.ip);
    await recordEvent(audit, log, { type: 'second_factor.succeeded', subject: pending.accountId, client: pending.clientId, method });
    await finishSignIn(ctx, uid, pending, method);
  }

  async function enrolmentPage(ctx: Context, uid: string, pending: PendingSignIn, problem: { failed?: boolean; retryAfterSeconds?: number | undefined } = {}): Promise<void> {
    const { secret, uri } = await secondFactors.startTotpEnrolment(pending.accountId, pending.username);
    ctx.type = 'html';
    ctx.body = renderTotpEnrolmentPage({
      action: `${base(uid)}/enrol`, csrf: csrfToken(csrfSecret, uid), qrSvg: await QRCode.toString(uri, { type: 'svg', margin: 2 }), secret, required: true, ...problem,
    });
  }

  async function passkeyCeremony(uid: string, pending: PendingSignIn, hasPasskey: boolean): Promise<{ optionsJson: string; action: string } | undefined> {
    const optionsJson = hasPasskey ? await deps.passkeys.authenticationOptions(pending.accountId, uid) : undefined;
    return optionsJson ? { optionsJson, action: `${base(uid)}/passkey` } : undefined;
  }

  async function challengePage(ctx: Context, uid: string, pending: PendingSignIn, problem: { failed?: boolean; retryAfterSeconds?: number | undefined } = {}): Promise<void> {
    const status = await secondFactors.status(pending.accountId);
    const client = await provider.Client.find(pending.clientId);
    ctx.type = 'html';
    ctx.body = renderSecondFactorPage({
      action: base(uid), csrf: csrfToken(csrfSecret, uid), clientName: client?.clientName ?? pending.clientId,
      hasTotp: status.totp, passkey: await passkeyCeremony(uid, pending, status.passkeys.length > 0), ...problem,
    });
  }

  return {
    /**
     * Called after a correct password instead of finishing the sign-in: finishes it (password
     * only) or sends the browser to the second step.
     */
    async afterPassword(ctx: Context, details: Awaited<ReturnType<Provider['interactionDetails']>>, user: PublicUser, remember = false): Promise<void> {
      const pending: PendingSignIn = { accountId: user.id, username: user.name, clientId: String(details.params.client_id), remember };
      const mustHave = secondFactorRequired(deps.rule, user.roles) || asksForSecondFactor(details.params.acr_values);
      if (!mustHave && !(await secondFactors.hasAny(user.id))) return finishSignIn(ctx, details.uid, pending, undefined);
      await store.put(pendingKey(details.uid), pending, { ttlSeconds: PENDING_SECONDS });
      ctx.status = 303;
      ctx.redirect(base(details.uid));
    },

    addRoutes(router: Router): void {
      router.get('/interaction/:uid/second-factor', async (ctx) => {
        const { details, pending } = await pendingFor(ctx);
        if (await secondFactors.hasAny(pending.accountId)) return challengePage(ctx, details.uid, pending);
        return enrolmentPage(ctx, details.uid, pending);
      });

      router.post('/interaction/:uid/second-factor', async (ctx) => {
        let method: SecondFactorMethod = 'totp';
        const ready = await attempt(ctx, challengePage, async (pending, form) => {
          method = form.get('method') === 'recovery' ? 'recovery' : 'totp';
          const outcome = method === 'recovery'
            ? ((await secondFactors.useRecoveryCode(pending.accountId, form.get('recovery-code') ?? '')) ? 'ok' : 'wrong')
            : await secondFactors.checkTotp(pending.accountId, form.get('code') ?? '');
          return outcome === 'ok' ? undefined : `${method} ${outcome}`;
        });
        if (ready) await succeeded(ctx, ready.details.uid, ready.pending, method);
      });

      router.post('/interaction/:uid/second-factor/passkey', async (ctx) => {
        const ready = await attempt(ctx, challengePage, async (pending, form, uid) =>
          (await deps.passkeys.authenticate(pending.accountId, uid, form.get('response') ?? '')) ? undefined : 'passkey refused');
        if (ready) await succeeded(ctx, ready.details.uid, ready.pending, 'passkey');
      });

      router.post('/interaction/:uid/second-factor/enrol', async (ctx) => {
        let codes: string[] | undefined;
        const ready = await attempt(ctx, enrolmentPage, async (pending, form) => {
          if (await secondFactors.hasAny(pending.accountId)) throw new FormError(400, 'a second factor is already set up for this account; go back and sign in with it');
          codes = await secondFactors.confirmTotpEnrolment(pending.accountId, form.get('code') ?? '');
          return codes ? undefined : 'enrolment code wrong';
        });
        if (!ready || !codes) return;
        const { details, pending } = ready;
        await store.put(pendingKey(details.uid), { ...pending, enrolled: 'totp' } satisfies PendingSignIn, { ttlSeconds: PENDING_SECONDS });
        await recordEvent(audit, log, { type: 'second_factor.enrolled', subject: pending.accountId, method: 'totp', during: 'sign-in' });
        ctx.type = 'html';
        ctx.body = renderRecoveryCodesPage({ codes, next: { action: `${base(details.uid)}/continue`, csrf: csrfToken(csrfSecret, details.uid), label: 'I saved them, continue' } });
      });

      router.post('/interaction/:uid/second-factor/continue', async (ctx) => {
        const { details, pending } = await pendingFor(ctx);
        await checkedForm(ctx, details.uid);
        if (!pending.enrolled) throw new FormError(400, 'this sign-in has not set up a second factor yet');
        await finishSignIn(ctx, details.uid, pending, pending.enrolled);
      });
    },
  };
}

export type SecondFactorStep = ReturnType<typeof secondFactorStep>;
