export { loadConfig, ConfigError, DEMO_ELEVATION, type Config } from './load.ts';
export type { ElevationPolicyConfig, ResourceConfig, StaticClientConfig } from './schema.ts';
