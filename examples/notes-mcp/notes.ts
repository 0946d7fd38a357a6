import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/resource-server/entries/storage.ts';

export interface Note {
  id: string;
  text: string;
  createdAt: string;
}

export const MAX_NOTE_LENGTH = 10_000;

/** Each user's notes, kept in the Store under their subject so they survive restarts. */
export class NoteBook {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async list(subject: string): Promise<Note[]> {
    return (await this.#store.findByTag<Note>(ownerTag(subject))).map((record) => record.value);
  }

  async create(subject: string, text: string): Promise<Note> {
    const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    await this.#store.put(`notes-mcp:note:${note.id}`, note, { tags: [ownerTag(subject)] });
    return note;
  }

  async deleteAll(subject: string): Promise<number> {
    return this.#store.deleteByTag(ownerTag(subject));
  }
}

const ownerTag = (subject: string) => `notes-mcp:owner:${subject}`;
