import { randomBytes } from 'node:crypto';
import type { Store } from '../../storage/index.ts';

/** A previewed import waiting for the admin's confirmation, bound to their console session. */
interface PendingImport {
  sessionId: string;
  text: string;
  basis: string;
}

const PENDING_SECONDS = 15 * 60;
const pendingKey = (id: string) => `config-import:pending:${id}`;

/** Keeps the previewed document server-side, so the confirmation applies exactly what was shown. */
export async function holdImport(store: Store, sessionId: string, text: string, basis: string): Promise<string> {
  const id = randomBytes(18).toString('base64url');
  await store.put(pendingKey(id), { sessionId, text, basis } satisfies PendingImport, { ttlSeconds: PENDING_SECONDS });
  return id;
}

/** The held import, if it exists, has not expired and belongs to this session. */
export async function heldImport(store: Store, sessionId: string, id: string): Promise<PendingImport | undefined> {
  if (!/^[\w-]{1,64}$/.test(id)) return undefined;
  const record = await store.get<PendingImport>(pendingKey(id));
  return record?.value.sessionId === sessionId ? record.value : undefined;
}

export async function releaseImport(store: Store, id: string): Promise<void> {
  await store.delete(pendingKey(id));
}
