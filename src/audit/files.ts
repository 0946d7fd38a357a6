import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_PATTERN, SEGMENT_PATTERN } from './records.ts';

export interface LogFiles {
  /** Segment files in order; the last one is the active segment, the others are sealed. */
  segments: Array<{ name: string; firstSeq: number }>;
  checkpoints: Array<{ name: string; size: number }>;
}

export async function listLogFiles(dir: string): Promise<LogFiles> {
  const names = await readdir(dir);
  const segments = names.flatMap((name) => { const match = SEGMENT_PATTERN.exec(name); return match ? [{ name, firstSeq: Number(match[1]) }] : []; });
  const checkpoints = names.flatMap((name) => { const match = CHECKPOINT_PATTERN.exec(name); return match ? [{ name, size: Number(match[1]) }] : []; });
  return { segments: segments.sort((a, b) => a.firstSeq - b.firstSeq), checkpoints: checkpoints.sort((a, b) => a.size - b.size) };
}

/**
 * The largest single write to a segment. A power loss during a write into zero-filled space can
 * keep any of its pages and lose others, so the unacknowledged end of a segment can hold zeros
 * before intact records; start-up only takes that for a torn write within this many bytes.
 */
export const MAX_WRITE_BYTES = 256 * 1024;

/** fsync of a directory, so that a created or renamed file survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the entry is still written eventually.
  } finally {
    await handle.close();
  }
}

/** The newest checkpoint: how many records it signs and when its file was written; undefined before the first (or without a log). */
export async function newestCheckpoint(dir: string): Promise<{ size: number; writtenAt: Date } | undefined> {
  const newest = (await listLogFiles(dir).catch(() => undefined))?.checkpoints.at(-1);
  if (!newest) return undefined;
  return { size: newest.size, writtenAt: (await stat(join(dir, newest.name))).mtime };
}
