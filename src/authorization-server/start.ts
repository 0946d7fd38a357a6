import type Provider from 'oidc-provider';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditVerifier, openAuditTrail, storedVerificationStatuses, type AuditTrail } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { gracefulClose } from '../http/graceful-close.ts';
import { createOutboundFetch } from '../http/outbound/index.ts';
import { describeKeySource, watchKeyRing, type KeyRing, type SigningKeys } from '../keys/index.ts';
import type { Logger } from '../log/index.ts';
import { openStore, usesRedis, type PrimaryClient, type Store } from '../storage/index.ts';
import { pkceOptionalWarning, storedClientsWithoutPkce } from './clients/registry.ts';
import { UserDirectory } from './accounts/users.ts';
import { usePasswordHashCost } from './accounts/password.ts';
import { SecondFactors } from './accounts/second-factors.ts';
import { secondFactorRule } from './accounts/second-factor-policy.ts';
import { secondFactorStep } from './interactions/second-factor-routes.ts';
import { accountSecondFactorRoutes } from './account/second-factor-routes.ts';
import { Passkeys } from './accounts/passkeys.ts';
import { passkeyScriptRoutes } from './interactions/passkey-script.ts';
import { createApp } from './app.ts';
import { auditProtocolEvents, recordEvent } from './audit-trail.ts';
import { loadCookieKeys } from './cookie-keys.ts';
import { csrfSecretFrom } from './interactions/csrf.ts';
import { createProvider, OUTBOUND_MAX_BYTES } from './provider.ts';
import { startAdminListener, type AdminListener } from '../metrics/admin-listener.ts';
import { Metrics } from '../metrics/index.ts';
import { instrumentedStore } from '../metrics/instrumented-store.ts';
import { timedAuditSink } from '../metrics/timed-audit.ts';
import { createRateLimits, rateLimitSettings } from './rate-limits/limits.ts';
import { openSettings, type SettingsService, type SettingValues } from '../settings/index.ts';
import { observeGrants } from './token-events.ts';
import { ResourceRegistry } from './resources.ts';
import { checkSharedKeys } from './shared-keys.ts';
import { openSigningKeys } from './signing-keys.ts';
import { replaceSigningKeys } from './provider-keys.ts';
import { drainAuditOutbox } from './audit-outbox.ts';
import { recordClientUse } from './clients/last-use.ts';
import { ClientService, scheduleIdleClientCleanUp } from '../admin/clients/index.ts';
import { createElevationHooks, createElevationService, elevationStatusRoutes, registerBreakGlassGauge, StepUpSignals, stepUpSignalRoutes } from './elevation/index.ts';
import { consoleElsewhere, consoleMiddleware } from '../admin/console.ts';
import type { ConsoleDeps } from '../admin/console-page.ts';
import { AdminSessions } from '../admin/session.ts';
import { consoleListenerMiddleware } from './console-listener.ts';
import { Federation } from './federation/index.ts';
import { secondFactorAccountSection } from './account/second-factor-views.ts';

export interface RunningAuthorizationServer {
  /** Where it listens, e.g. http://127.0.0.1:3000 (the issuer may differ behind a proxy). */
  url: string;
  issuer: string;
  /** The ring in use now: it changes when a rotation or retirement anywhere reaches this instance. */
  readonly keys: KeyRing;
  signingKeys: SigningKeys;
  /** oidc-provider itself (tests listen to its events). */
  provider: Provider;
  store: Store;
  users: UserDirectory;
  /** The live settings (console, CLI, import change them; every instance follows within 5 s). */
  settings: SettingsService;
  metrics: Metrics;
  /** The separate /metrics listener, when METRICS_PORT is set. */
  admin: AdminListener | undefined;
  /** Where the operator console is: on the main listener, or on ADMIN_PORT. */
  consoleUrl: string;
  audit: AuditTrail;
  /** Checks the audit log every AUDIT_VERIFY_SECONDS and on an administrator's request; undefined when AUDIT=off. */
  auditVerifier: AuditVerifier | undefined;
  /** The audit log's first write (`config.loaded`); done already unless started with `holdAudit`. */
  startAudit(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Leave the audit log unwritten until `startAudit`: the caller has more listeners to bind first. */
  holdAudit?: boolean;
  /** In a cluster worker on the embedded engine: the primary that counts for every worker. */
  primary?: PrimaryClient | undefined;
}

/** Builds every service from the configuration and starts listening. */
export async function startAuthorizationServer(
  config: Config, log: Logger, metrics = new Metrics({ processMetrics: false }), options: StartOptions = {},
): Promise<RunningAuthorizationServer> {
  const cookieKeys = loadCookieKeys({ cookieKeys: config.cookieKeys, cookieKeysPath: config.cookieKeysPath, keysDir: config.keysDir });
  const audit = await openAuditTrail(config, log);
  const store = instrumentedStore(await openStore({ ...config, primary: options.primary }, log).catch(async (error: unknown) => {
    await audit.close();
    throw error;
  }), metrics);
  logStore(config, store, log);
  const auditSink = timedAuditSink(audit.sink, metrics);
  const { signingKeys, keys } = await loadSigningKeys(config, store, cookieKeys).catch(async (error: unknown) => {
    await store.close();
    await audit.close();
    throw error;
  });
  let currentKeys = keys;
  log.info({ kid: keys.signingKid, source: keys.source }, describeKeySource(keys));
  if (usesRedis(config)) await checkSharedKeys(store, { signing: keys, cookieKeys }, log);
  usePasswordHashCost(config.passwordHashCost);
  const users = new UserDirectory(store);
  const settings = await openSettings({ config, store, audit: auditSink, log }).catch(async (error: unknown) => {
    await store.close();
    await audit.close();
    throw error;
  });
  settings.watch();
  const live = () => settings.current();
  const resources = new ResourceRegistry(config.resources, () => live().accessTokenTtlSeconds);
  const outboundFetch = createOutboundFetch({
    log, allowLoopback: config.outboundAllowLoopback, maxResponseBytes: OUTBOUND_MAX_BYTES, ...(config.outboundCa ? { extraCa: config.outboundCa } : {}),
  });
  logRegistrationPolicy(config, settings.current(), log);
  await warnAboutStoredClientsWithoutPkce(store, log);
  const auditVerifier = audit.log ? new AuditVerifier({
    dir: audit.log.dir, verifierKey: audit.log.verifierKey, statuses: storedVerificationStatuses(store, { dir: audit.log.dir, origin: config.auditOrigin }),
  }) : undefined;
  const elevation = createElevationService(config, store, auditSink, log, live);
  registerBreakGlassGauge(metrics.registry, elevation.records);
  const stepUps = new StepUpSignals(store);
  const provider = createProvider({
    config, store, users, resources, signingKeys: keys.privateJwks(), cookieKeys, log, outboundFetch, elevation: createElevationHooks(resources, elevation, stepUps), settings,
  });
  if (config.trustProxy > 0) provider.proxy = true;
  const keyWatch = watchKeyRing(signingKeys, keys, (ring) => {
    replaceSigningKeys(provider, ring.privateJwks());
    currentKeys = ring;
  }, log);
  observeGrants(provider, { metrics, log, staticClientIds: new Set(config.clients.map((client) => client.client_id)) });
  // Before the write-ahead, like observeGrants, so a token the audit log withheld is no use.
  recordClientUse(provider, store, log);
  auditProtocolEvents(provider, auditSink, log);
  provider.on('server_error', (_ctx, error) => log.error({ err: { name: error.name, message: error.message } }, 'oidc-provider server error'));
  const limits = createRateLimits(store, () => rateLimitSettings(live()), (limit) => metrics.rateLimited.inc({ limit }));
  const csrfSecret = csrfSecretFrom(cookieKeys);
  const secondFactors = new SecondFactors(store, new URL(config.issuer).host);
  const issuerUrl = new URL(config.issuer);
  const passkeys = new Passkeys(store, secondFactors, { rpId: issuerUrl.hostname, origin: issuerUrl.origin, rpName: issuerUrl.host });
  const secondFactorPolicy = () => secondFactorRule({ secondFactorRequired: live().secondFactorRequired, nodeEnv: config.nodeEnv });
  const secondFactor = secondFactorStep({
    provider, store, log, secondFactors, passkeys, rule: secondFactorPolicy, csrfSecret, limits, metrics, audit: auditSink,
  });
  const consoleDependencies: ConsoleDeps = {
    config, store, users, secondFactors, secondFactorRule: secondFactorPolicy, audit: auditSink, auditLog: audit.log, log, resources, elevation, limits, provider,
    keys: { get signingKid() { return currentKeys.signingKid; }, get source() { return currentKeys.source; }, publicJwks: () => currentKeys.publicJwks() },
    sessions: new AdminSessions(store, cookieKeys[0]!),
    auditVerifier,
    signingKeys,
    settings,
  };
  const operatorConsole = consoleMiddleware(consoleDependencies);
  const app = createApp({
    provider, store, users, resources, issuer: config.issuer, log, csrfSecret, audit: auditSink, elevation,
    registration: { mode: () => live().registration },
    limits,
    secondFactor,
    accountSections: [secondFactorAccountSection],
    routers: [
      elevationStatusRoutes(elevation.records),
      stepUpSignalRoutes({ issuer: config.issuer, resources, signals: stepUps, jwks: () => currentKeys.publicJwks() as never, log }),
      passkeyScriptRoutes(),
      accountSecondFactorRoutes({ provider, users, secondFactors, passkeys, rule: secondFactorPolicy, csrfSecret, limits, audit: auditSink, log }),
    ],
    operatorConsole: config.adminPort === undefined ? operatorConsole : consoleElsewhere(),
    trustedProxies: config.trustProxy,
    federation: config.upstreamProviders.length > 0
      ? new Federation({ providers: config.upstreamProviders, issuer: config.issuer, fetch: outboundFetch, store, users }) : undefined,
    passwordLogin: config.passwordLogin === 'on',
    cookieKeys,
    metrics,
    metricsAccess: config.metricsToken && config.metricsPort === undefined ? { token: config.metricsToken, allow: config.adminAllowlist } : undefined,
    auditDir: audit.log?.dir,
  });

  const server: Server = app.listen({ port: config.port, ...(config.host ? { host: config.host } : {}) });
  const closeServer = gracefulClose(server);
  let admin: AdminListener | undefined;
  let consoleListener: AdminListener | undefined;
  try {
    await once(server, 'listening');
    const metricsHere = { metrics, access: { ...(config.metricsToken ? { token: config.metricsToken } : {}), allow: config.adminAllowlist } };
    const shared = config.adminPort !== undefined && config.adminPort === config.metricsPort;
    admin = config.metricsPort === undefined ? undefined : await startAdminListener({
      port: config.metricsPort, host: config.metricsHost, log, metrics: metricsHere, ...(shared ? { middleware: consoleListenerMiddleware(log, operatorConsole) } : {}),
    });
    consoleListener = config.adminPort === undefined ? undefined : shared ? admin : await startAdminListener({
      port: config.adminPort, host: config.adminHost, log, middleware: consoleListenerMiddleware(log, operatorConsole),
    });
  } catch (error) {
    keyWatch.stop();
    settings.close();
    await admin?.close();
    await closeServer();
    await store.close();
    await audit.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  let auditStarted: Promise<void> | undefined;
  let outbox: { stop(): void } | undefined;
  let idleClients: { stop(): void } | undefined;
  let verifying: { stop(): Promise<void> } | undefined;
  const startAudit = () => auditStarted ??= (async () => {
    await audit.start();
    await recordEvent(auditSink, log, {
      type: 'config.loaded', issuer: config.issuer, signing_kid: keys.signingKid, key_source: keys.source, config_file: config.configFile,
      resources: config.resources.map((resource) => resource.uri), registration: live().registration, cimd: live().cimd, settings_version: settings.version,
    });
    outbox = drainAuditOutbox(store, auditSink, log);
    const clients = new ClientService({ store, staticClients: config.clients, audit: auditSink, log });
    idleClients = scheduleIdleClientCleanUp({ clients, store, log, days: config.registeredClientMaxIdleDays });
    verifying = auditVerifier?.schedule(config.auditVerifySeconds, log);
  })();
  if (!options.holdAudit) {
    await startAudit().catch(async (error: unknown) => {
      keyWatch.stop();
      settings.close();
      await admin?.close();
      if (consoleListener !== admin) await consoleListener?.close();
      await closeServer();
      await store.close();
      await audit.close();
      throw error;
    });
  }
  return {
    startAudit,
    provider,
    url: `http://127.0.0.1:${port}`,
    issuer: config.issuer,
    get keys() {
      return currentKeys;
    },
    signingKeys,
    store,
    users,
    settings,
    metrics,
    admin,
    consoleUrl: consoleListener ? `${consoleListener.url}/admin` : `http://127.0.0.1:${port}/admin`,
    audit,
    auditVerifier,
    /** Stops accepting, lets requests in flight finish (their connections then close), closes the store and the audit log. */
    async close() {
      keyWatch.stop();
      outbox?.stop();
      idleClients?.stop();
      await verifying?.stop();
      settings.close();
      await admin?.close();
      if (consoleListener !== admin) await consoleListener?.close();
      await closeServer();
      await store.close();
      await audit.close();
    },
  };
}

async function loadSigningKeys(config: Config, store: Store, cookieKeys: string[]): Promise<{ signingKeys: SigningKeys; keys: KeyRing }> {
  const signingKeys = await openSigningKeys(config, store, cookieKeys);
  return { signingKeys, keys: await signingKeys.ring() };
}

/** Says which store holds the state. */
function logStore(config: Config, store: Store, log: Logger): void {
  log.info(usesRedis(config) ? { store: store.engine, redisPrefix: config.redisPrefix } : { store: store.engine, dataDir: config.dataDir }, 'store opened');
}

/** Says at start which clients may introduce themselves (the live settings may change it later), and warns about the test-only switch. */
function logRegistrationPolicy(config: Config, live: SettingValues, log: Logger): void {
  log.info({
    registration: live.registration,
    cimd: live.cimd,
    cimdAllowedHosts: live.cimdAllowedHosts.length ? live.cimdAllowedHosts : 'any public host',
  }, 'client onboarding: dynamic registration and client metadata documents');
  if (config.outboundAllowLoopback) log.warn('OUTBOUND_ALLOW_LOOPBACK=true: outbound fetches may reach loopback (test suites only)');
  for (const client of config.clients.filter((candidate) => candidate.pkce === 'optional')) log.warn({ client: client.client_id }, pkceOptionalWarning(client.client_id));
}

async function warnAboutStoredClientsWithoutPkce(store: Store, log: Logger): Promise<void> {
  for (const clientId of await storedClientsWithoutPkce(store)) log.warn({ client: clientId }, pkceOptionalWarning(clientId));
}
