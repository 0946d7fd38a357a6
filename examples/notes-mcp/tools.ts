import { z } from 'zod';
import { defineTool, type ProtectedTool } from '../../src/resource-server/entries/mcp.ts';
import { MAX_NOTE_LENGTH, type NoteBook } from './notes.ts';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** The demo's three tools, one of each risk level. */
export function noteTools(notes: NoteBook): ProtectedTool[] {
  return [
    defineTool({
      name: 'list_notes',
      title: 'List notes',
      description: 'Lists your notes with their text.',
      policy: { risk: 'read' },
      handler: async (_args, { token }) => {
        const list = await notes.list(token.subject);
        return { ...text(list.length ? list.map((note) => `- ${note.text}`).join('\n') : 'You have no notes yet.'), structuredContent: { notes: list } };
      },
    }),
    defineTool({
      name: 'create_note',
      title: 'Create a note',
      description: 'Saves a new note with the given text.',
      inputSchema: { text: z.string().min(1).max(MAX_NOTE_LENGTH).describe('The text of the note') },
      policy: { risk: 'write' },
      handler: async ({ text: noteText }, { token }) => {
        const note = await notes.create(token.subject, noteText);
        return { ...text(`Saved note ${note.id}.`), structuredContent: { note } };
      },
    }),
    defineTool({
      name: 'delete_all_notes',
      title: 'Delete all notes',
      description: 'Deletes every one of your notes. Needs elevated access (notes:admin): a reason, and an approver\'s yes or emergency access.',
      policy: { risk: 'privileged' },
      handler: async (_args, { token }) => text(`Deleted ${await notes.deleteAll(token.subject)} notes.`),
    }),
  ];
}
