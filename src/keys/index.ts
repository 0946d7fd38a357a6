export { loadKeyRing } from './load.ts';
export type { LoadKeyRingOptions } from './load.ts';
export { describeKeySource } from './keyring.ts';
export type { KeyOrigin, KeyRing, KeySource } from './keyring.ts';
export { listKeys, retireKey, rotateKey } from './keys-dir.ts';
export type { KeyInfo, KeyStatus } from './manifest.ts';
export type { PrivateSigningJwk, PublicSigningJwk } from './jwk.ts';
export { KeyConfigError } from './errors.ts';
export type { KeySetting } from './errors.ts';
