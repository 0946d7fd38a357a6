export { createProvider, type ProviderDependencies } from './provider.ts';
export { createApp, type AppDependencies } from './app.ts';
export { UserDirectory, UserError, type PublicUser } from './accounts/users.ts';
export { registerClient, listClients, ClientError, type ListedClient } from './clients/registry.ts';
export { createInitialAccessToken } from './clients/initial-access-tokens.ts';
export { ResourceRegistry } from './resources.ts';
export { loadCookieKeys } from './cookie-keys.ts';
export { SecondFactors } from './accounts/second-factors.ts';
