export { loadConfig, ConfigError, type Config } from './load.ts';
export type { ResourceConfig, StaticClientConfig, UpstreamProviderConfig } from './schema.ts';
export { demoNotesResource } from './demo-resource.ts';
