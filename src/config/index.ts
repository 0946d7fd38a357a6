export { loadConfig, ConfigError, type Config } from './load.ts';
export type { ElevationPolicyConfig, ResourceConfig, StaticClientConfig, UpstreamProviderConfig } from './schema.ts';
export { demoNotesResource, DEMO_ELEVATION } from './demo-resource.ts';
