import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { AuditLog, AuditSink, AuditVerifier } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { KeyRing, SigningKeys } from '../keys/index.ts';
import type { Logger } from '../log/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { Store } from '../storage/index.ts';
import type { SecondFactorRule } from '../authorization-server/accounts/second-factor-policy.ts';
import type { SecondFactors } from '../authorization-server/accounts/second-factors.ts';
import type { UserDirectory } from '../authorization-server/accounts/users.ts';
import type { ElevationService } from '../authorization-server/elevation/service.ts';
import type { RateLimits } from '../authorization-server/rate-limits/limits.ts';
import type { ResourceRegistry } from '../authorization-server/resources.ts';
import type { AdminSessions } from './session.ts';

/**
 * What console pages are built from, made once at start (src/authorization-server/start.ts,
 * `consoleDependencies`). A page that needs a service of its own adds an optional field here.
 */
export interface ConsoleDeps {
  config: Config;
  store: Store;
  users: UserDirectory;
  secondFactors: SecondFactors;
  /** Who must sign in with a second factor, read on every sign-in (a live setting may change it). */
  secondFactorRule(): SecondFactorRule;
  /** Where console actions are recorded (write-ahead: see `recordAdminEvent`). */
  audit: AuditSink;
  /** The audit log itself, for its health and checkpoints; undefined with AUDIT=off. */
  auditLog: AuditLog | undefined;
  log: Logger;
  keys: Pick<KeyRing, 'signingKid' | 'publicJwks' | 'source'>;
  resources: ResourceRegistry;
  elevation: ElevationService;
  limits: Pick<RateLimits, 'loginLockout' | 'loginFailuresPerAddress'>;
  provider: Provider;
  sessions: AdminSessions;
  /** Checks the audit log on a schedule and on request (the Audit page's "Verify now"); undefined with AUDIT=off. */
  auditVerifier?: AuditVerifier | undefined;
  /** Rotate, retire and list signing keys (the Signing keys page). */
  signingKeys?: SigningKeys;
  /** The live settings (Settings page, export and import). */
  settings?: SettingsService;
}

/** The default access-token lifetime in force (a live setting), for pages that show it. */
export function defaultAccessTokenTtl(deps: Pick<ConsoleDeps, 'config' | 'settings'>): number {
  return deps.settings?.current().accessTokenTtlSeconds ?? deps.config.accessTokenTtlSeconds;
}

/**
 * One page (or group of pages) of the console: a router with full paths under /admin
 * (`new Router({ prefix: '/admin/clients' })`). Register it in src/admin/pages.ts. The shell has
 * already refused anyone not signed in or without the role `roleForPath` names before a page
 * route runs; pages still call `requireAdmin` / `guardedForm` themselves.
 */
export type ConsolePage = (deps: ConsoleDeps) => Router;
