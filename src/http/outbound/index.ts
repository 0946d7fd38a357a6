export { createOutboundFetch, type OutboundFetch, type OutboundOptions, type Resolver } from './fetch.ts';
export { OutboundError, type OutboundReason } from './errors.ts';
export { forbiddenAddress, describeForbidden, type ForbiddenAddress } from './address-classes.ts';
export { internalHostnameProblem } from './hostname-rules.ts';
export type { ResolvedAddress } from './pinned-request.ts';
