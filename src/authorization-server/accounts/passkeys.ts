import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Store } from '../../storage/index.ts';
import type { SecondFactors } from './second-factors.ts';

/** A challenge must come back within this time. */
const CHALLENGE_SECONDS = 5 * 60;
const challengeKey = (purpose: 'register' | 'sign-in', id: string) => `mfa-webauthn-challenge:${purpose}:${id}`;

export interface PasskeySettings {
  /** The issuer's host name: passkeys are bound to it. */
  rpId: string;
  /** The issuer's origin, which the browser reports in every response. */
  origin: string;
  rpName: string;
}

/**
 * Passkeys (WebAuthn) as a second factor, with @simplewebauthn/server. Each ceremony's challenge
 * is kept in the Store and used once, so every instance can finish what another started.
 */
export class Passkeys {
  readonly #store: Store;
  readonly #factors: SecondFactors;
  readonly #settings: PasskeySettings;

  constructor(store: Store, factors: SecondFactors, settings: PasskeySettings) {
    this.#store = store;
    this.#factors = factors;
    this.#settings = settings;
  }

  /** Options for navigator.credentials.create(), as JSON for the page's script. */
  async registrationOptions(user: { id: string; name: string }): Promise<string> {
    const existing = await this.#factors.passkeys(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.#settings.rpName, rpID: this.#settings.rpId, userName: user.name, userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransportFuture[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.#store.put(challengeKey('register', user.id), { challenge: options.challenge }, { ttlSeconds: CHALLENGE_SECONDS });
    return JSON.stringify(options);
  }

  /** Saves the passkey when the browser's response answers the stored challenge; false otherwise. */
  async register(userId: string, responseJson: string, name: string): Promise<boolean> {
    const challenge = await this.#takeChallenge('register', userId);
    const response = parse<RegistrationResponseJSON>(responseJson);
    if (!challenge || !response) return false;
    const result = await verifyRegistrationResponse({
      response, expectedChallenge: challenge, expectedOrigin: this.#settings.origin, expectedRPID: this.#settings.rpId, requireUserVerification: false,
    }).catch(() => undefined);
    if (!result?.verified) return false;
    const { credential } = result.registrationInfo;
    await this.#factors.addPasskey(userId, {
      id: credential.id, publicKey: Buffer.from(credential.publicKey).toString('base64url'), counter: credential.counter,
      ...(credential.transports ? { transports: credential.transports } : {}), name, createdAt: new Date().toISOString(),
    });
    return true;
  }

  /** Options for navigator.credentials.get() for this sign-in, or undefined when the user has no passkey. */
  async authenticationOptions(userId: string, signInId: string): Promise<string | undefined> {
    const passkeys = await this.#factors.passkeys(userId);
    if (passkeys.length === 0) return undefined;
    const options = await generateAuthenticationOptions({
      rpID: this.#settings.rpId, userVerification: 'preferred',
      allowCredentials: passkeys.map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransportFuture[] })),
    });
    await this.#store.put(challengeKey('sign-in', signInId), { challenge: options.challenge }, { ttlSeconds: CHALLENGE_SECONDS });
    return JSON.stringify(options);
  }

  /** True when the response is a valid assertion by one of the user's passkeys for this sign-in's challenge. */
  async authenticate(userId: string, signInId: string, responseJson: string): Promise<boolean> {
    const challenge = await this.#takeChallenge('sign-in', signInId);
    const response = parse<AuthenticationResponseJSON>(responseJson);
    const passkey = response && (await this.#factors.passkeys(userId)).find((candidate) => candidate.id === response.id);
    if (!challenge || !response || !passkey) return false;
    const result = await verifyAuthenticationResponse({
      response, expectedChallenge: challenge, expectedOrigin: this.#settings.origin, expectedRPID: this.#settings.rpId, requireUserVerification: false,
      credential: {
        id: passkey.id, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')), counter: passkey.counter,
        ...(passkey.transports ? { transports: passkey.transports as AuthenticatorTransportFuture[] } : {}),
      },
    }).catch(() => undefined);
    if (!result?.verified) return false;
    await this.#factors.updatePasskeyCounter(userId, passkey.id, result.authenticationInfo.newCounter);
    return true;
  }

  async #takeChallenge(purpose: 'register' | 'sign-in', id: string): Promise<string | undefined> {
    const key = challengeKey(purpose, id);
    const stored = (await this.#store.get<{ challenge: string }>(key))?.value.challenge;
    if (stored === undefined || !(await this.#store.consume(key))) return undefined;
    return stored;
  }
}

function parse<T>(json: string): T | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? value as T : undefined;
  } catch {
    return undefined;
  }
}
