export { ClientService, type ClientServiceDependencies } from './client-service.ts';
export { type ClientKind, type ClientSummary } from './client-catalogue.ts';
export { cleanUpThisHour, scheduleIdleClientCleanUp } from './idle-clean-up.ts';
