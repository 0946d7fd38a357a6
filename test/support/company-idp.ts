import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { TestCertificates } from './tls.ts';

export interface CompanyAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

/** How the next ID tokens are spoiled, to see that Portcullis refuses them. */
export type IdTokenTamper = 'wrong-audience' | 'expired' | 'foreign-signature' | undefined;

export interface CompanyIdp {
  /** https://localhost:<port> */
  issuer: string;
  /** Accounts by login name (the dev sign-in form takes any password). */
  accounts: Map<string, CompanyAccount>;
  tamper: IdTokenTamper;
  close(): Promise<void>;
}

/**
 * A bare oidc-provider acting as a company's identity provider, over https with the test CA:
 * its own development sign-in form, claims served from `accounts`, consent implied.
 */
export async function startCompanyIdp(certificates: TestCertificates, client: { client_id: string; client_secret: string; redirect_uris: string[] }): Promise<CompanyIdp> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server: Server = createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(privateKey)), kid: 'company-key', alg: 'RS256', use: 'sig' };
  const idp: CompanyIdp = { issuer, accounts: new Map(), tamper: undefined, close: async () => {} };

  const provider = new Provider(issuer, {
    clients: [{ ...client, grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [jwk] },
    cookies: {
      keys: ['company-idp-cookie-key-for-tests-only'],
      // Portcullis also runs on localhost: browsers share cookies across ports, so the names must differ.
      names: { session: '_company_session', interaction: '_company_interaction', resume: '_company_resume' },
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    findAccount: async (_ctx, sub) => {
      const account = idp.accounts.get(sub);
      return account && { accountId: sub, claims: () => ({ sub, ...account }) };
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    // The development sign-in page imports a web font; the test browser must stay on loopback.
    if (ctx.response.is('html')) ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && body?.id_token && idp.tamper) {
      body.id_token = await spoil(body.id_token, idp.tamper, idp.tamper === 'foreign-signature' ? foreign.privateKey : privateKey);
    }
  });
  const callback = provider.callback();
  handler = (req, res) => { void callback(req, res); };
  idp.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return idp;
}

async function spoil(idToken: string, tamper: NonNullable<IdTokenTamper>, key: Parameters<SignJWT['sign']>[0]): Promise<string> {
  const claims: JWTPayload = { ...decodeJwt(idToken) };
  if (tamper === 'wrong-audience') claims.aud = 'someone-else';
  if (tamper === 'expired') {
    claims.iat = Math.floor(Date.now() / 1000) - 7200;
    claims.exp = Math.floor(Date.now() / 1000) - 3600;
  }
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'company-key' }).sign(key);
}
