import { z } from 'zod';
import { elevationPolicySchema, resourceSchema, resourceUri, roleName, staticClientSchema } from '../../config/index.ts';

export const DOCUMENT_FORMAT = 'portcullis-config';
export const DOCUMENT_VERSION = 1;

/** Where a client comes from: the file (fixed), or the Store (added by an operator, or registered itself at /reg). */
export const CLIENT_SOURCES = ['configuration file', 'operator', 'registered'] as const;
export type ClientSource = (typeof CLIENT_SOURCES)[number];

/** A resource as CONFIG_FILE declares it, without the parts the roles and policies sections hold. */
const resourceEntrySchema = resourceSchema.omit({ elevation: true, scopeRoles: true });

/** Client metadata as the server keeps it, never a secret or its hash. */
const clientEntrySchema = staticClientSchema.extend({
  source: z.enum(CLIENT_SOURCES, { error: `must be one of ${CLIENT_SOURCES.join(', ')}` }),
  client_secret: z.never({ error: 'an export never carries a client secret; remove this member' }).optional(),
});

const settingEntrySchema = z.strictObject({
  value: z.unknown(),
  /** Where the value came from on the server that exported it (for the reader; import applies `value`). */
  source: z.string().optional(),
});

/**
 * The whole configuration as one JSON document. Each fact appears once: a resource's scope-role rules are
 * in roles.scopeRoles and its elevation policies in policies.elevation, both keyed by the resource URI.
 */
export const configDocumentSchema = z.strictObject({
  format: z.literal(DOCUMENT_FORMAT, { error: `must be "${DOCUMENT_FORMAT}"` }),
  version: z.literal(DOCUMENT_VERSION, { error: `must be ${DOCUMENT_VERSION} (the only version this server reads)` }),
  exported_at: z.iso.datetime({ error: 'must be a date and time such as 2026-12-01T10:00:00Z' }),
  issuer: z.string().min(1),
  resources: z.array(resourceEntrySchema),
  clients: z.array(clientEntrySchema),
  settings: z.record(z.string(), settingEntrySchema),
  roles: z.strictObject({
    /** Username -> the roles that user holds; a user not listed holds none. */
    users: z.record(z.string(), z.array(roleName)),
    scopeRoles: z.record(resourceUri, z.record(z.string(), z.array(roleName))),
    groupRoles: z.record(z.string(), z.record(z.string(), roleName)),
  }),
  policies: z.strictObject({
    elevation: z.record(resourceUri, z.array(elevationPolicySchema)),
  }),
  signature: z.unknown().optional(),
});

export type ConfigDocument = z.output<typeof configDocumentSchema>;
export type ClientEntry = ConfigDocument['clients'][number];
export type DocumentBody = Omit<ConfigDocument, 'signature'>;
