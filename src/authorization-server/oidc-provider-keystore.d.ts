declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** oidc-provider's own keystore initializer; `this` is the Provider. */
  export default function initializeKeystore(this: object, jwks: { keys: object[] }): void;
}
