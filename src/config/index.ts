export { loadConfig, ConfigError, type Config } from './load.ts';
export type { ElevationPolicyConfig, ResourceConfig, StaticClientConfig, UpstreamProviderConfig } from './schema.ts';
export { demoNotesResource, DEMO_ELEVATION } from './demo-resource.ts';
export { loadConfigSignatureKey, SIGNATURE_KEY_SETTING, type ConfigSignatureKey } from './signature-key.ts';
export { checkSignature, signDocument, type DocumentSignature, type SignatureCheck } from './signed-document.ts';
export { configSchema, elevationPolicySchema, resourceSchema, resourceUri, roleName, staticClientSchema, upstreamProviderSchema, ENV_NAMES } from './schema.ts';
