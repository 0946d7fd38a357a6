import type { AuditSink } from '../../audit/index.ts';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../log/index.ts';
import type { SettingValues } from '../../settings/index.ts';
import type { Store } from '../../storage/index.ts';
import type { ResourceRegistry } from '../resources.ts';
import { alertWebhook } from './alert-webhook.ts';
import { BreakGlassLimits } from './break-glass-limits.ts';
import { ElevationHooks } from './provider-hooks.ts';
import { ElevationRecords } from './records.ts';
import { ElevationService } from './service.ts';
import { pamDecider } from './pam.ts';
import type { StepUpSignals } from './step-up-signals.ts';

export { ElevationService, ElevationRefusal, mayApprove } from './service.ts';
export { ElevationRecords, currentStatus, type Elevation, type ElevationStatus } from './records.ts';
export { ElevationHooks } from './provider-hooks.ts';
export { elevationStatusRoutes } from './status-route.ts';
export { registerBreakGlassGauge } from './metrics.ts';
export { StepUpSignals } from './step-up-signals.ts';
export { stepUpSignalRoutes } from './step-up-route.ts';

/** The elevation service over the Store, as the settings describe it; break-glass limits follow `live` when given. */
export function createElevationService(
  config: Config, store: Store, audit: AuditSink, log: Logger, live: () => Pick<SettingValues, 'breakGlassPerUserPerDay' | 'breakGlassPerHour'> = () => config,
): ElevationService {
  return new ElevationService({
    records: new ElevationRecords(store), audit, log,
    breakGlass: new BreakGlassLimits(store, () => ({ perUserPerDay: live().breakGlassPerUserPerDay, perHour: live().breakGlassPerHour })),
    alert: config.alertWebhookUrl ? alertWebhook({ url: config.alertWebhookUrl, secret: config.alertWebhookSecret!, log }) : undefined,
    pam: config.pamDecisionUrl ? pamDecider({ url: config.pamDecisionUrl, secret: config.pamSecret!, timeoutMs: config.pamTimeoutMs, log }) : undefined,
  });
}

export function createElevationHooks(resources: ResourceRegistry, service: ElevationService, signals: StepUpSignals): ElevationHooks {
  return new ElevationHooks(resources, service.records, signals);
}
