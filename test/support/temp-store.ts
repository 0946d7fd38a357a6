import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openEmbeddedStore, type Store } from '../../src/storage/index.ts';

/** An embedded store in a temporary directory for the enclosing suite; read `.store` inside tests. */
export function embeddedStoreForSuite(): { readonly store: Store } {
  let dir: string;
  const holder = {} as { store: Store };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
    holder.store = await openEmbeddedStore({ dataDir: dir });
  });
  after(async () => {
    await holder.store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return holder;
}
