import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  auditKeySetting, auditLocation, configuredAuditKey, describeFailure, checkConsistency, proveConsistency, queryLogs, recoverLog, witnessOnce, type AuditQuery, type RecordedHandover, parseVerifierKey, proveInclusion, queryLog, rotateAuditKey, verifierKey, verifyLog, parseDateBound,
} from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { UsageError } from './io.ts';

export const auditUsage = `portcullis audit verify [--from DATE] [--to DATE] [--source local|s3] [--key VERIFIER_KEY] [--log NAME]
portcullis audit query [--from DATE] [--to DATE] [--subject S] [--client C] [--tool T] [--type T] [--log NAME]
portcullis audit proof <seq> [--log NAME]
portcullis audit key [--log NAME]
portcullis audit rotate-key [--old-key-lost] [--log NAME]
portcullis audit recover [--log NAME]
portcullis audit consistency <old size> <new size> [--log NAME]
portcullis audit witness <checkpoint URL> [--state FILE] [--key VERIFIER_KEY] [--every SECONDS]`;

/** Offline readers of the audit log in AUDIT_DIR (`--log notes-mcp`: the demo MCP server's log beside it). */
export async function auditCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' }, to: { type: 'string' }, source: { type: 'string', default: 'local' }, key: { type: 'string' }, log: { type: 'string' },
      subject: { type: 'string' }, client: { type: 'string' }, tool: { type: 'string' }, type: { type: 'string' }, 'old-key-lost': { type: 'boolean', default: false },
      state: { type: 'string' }, every: { type: 'string' },
    },
  });
  const [action, seqText, secondText] = positionals;
  if (action === 'witness') return witnessCommand(config, seqText, values);
  const location = auditLocation(config, values.log);
  const range = { from: dateOption('--from', values.from, 'start'), to: dateOption('--to', values.to, 'end') };
  if (values.source === 'local' && action !== 'key' && !existsSync(location.dir)) throw new UsageError(`no audit log in ${location.dir} (AUDIT_DIR)`);

  if (action === 'verify') {
    const { name, publicKey } = values.key ? parseKeyOption(values.key) : { name: location.origin, publicKey: await publicAuditKey(config, values.log) };
    if (values.source !== 'local' && values.source !== 's3') throw new UsageError('--source must be local or s3');
    const copy = values.source === 's3' ? await (await import('../audit/s3/download.ts')).downloadAuditCopy(config, values.log) : undefined;
    try {
      const report = await verifyLog({ dir: copy?.dir ?? location.dir, name, publicKey, ...range, partialTail: copy !== undefined });
      if (!report.ok) {
        process.stdout.write(`audit log ${report.failure!.kind === 'unvouched' ? 'UNVOUCHED' : 'BROKEN'}: ${describeFailure(report.failure!)}\n`);
        process.exitCode = 1;
        return;
      }
      const span = report.lastSeq === undefined ? 'no records' : `records ${report.firstSeq}..${report.lastSeq}`;
      const notes = [
        report.unsigned ? `${report.unsigned} newest records not signed yet (the next checkpoint signs them)` : '',
        report.beyondEnd ? `${report.beyondEnd} checkpoints cover records not uploaded yet` : '',
        ...report.handovers.map(describeHistory),
        report.unvouched.length ? `${report.unvouched.length} older checkpoints are signed by keys from before the lost one (${report.unvouched[0]!.signers.join(', ')}): their records check out, but only those keys' verifier keys (verify --key) can vouch for them` : '',
      ].filter(Boolean);
      process.stdout.write(`audit log OK: ${span}, ${report.checkpoints} checkpoints verified${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
    } finally {
      await copy?.remove();
    }
    return;
  }
  if (action === 'query') {
    const query = { ...range, subject: values.subject, client: values.client, tool: values.tool, type: values.type };
    if (values.log === undefined) {
      // Every log under AUDIT_DIR: tool events are in the MCP server's log, a cluster's in each worker's.
      for await (const { log, record } of queryLogs(location.dir, query)) {
        process.stdout.write(`${JSON.stringify({ ...(log ? { log } : {}), seq: record.seq, time: record.time, event: record.event })}\n`);
      }
      return;
    }
    let found = 0;
    for await (const record of queryLog(location.dir, query)) {
      found += 1;
      process.stdout.write(`${JSON.stringify({ seq: record.seq, time: record.time, event: record.event })}\n`);
    }
    if (found === 0) await sayWhereElse(config.auditDir, values.log, query);
    return;
  }
  if (action === 'proof') {
    if (!seqText || !/^\d+$/.test(seqText)) throw new UsageError(`a record seq is required\n${auditUsage}`);
    const proof = await proveInclusion(location.dir, Number(seqText));
    process.stdout.write(`${JSON.stringify({ ...proof, verifier_key: verifierKey(location.origin, await publicAuditKey(config, values.log)) }, null, 2)}\n`);
    return;
  }
  if (action === 'rotate-key') {
    const result = await rotateAuditKey(config, values.log, { oldKeyLost: values['old-key-lost'] });
    process.stdout.write([
      `audit key rotated: the log recorded audit.key_rotated at seq ${result.seq}${values['old-key-lost'] ? ' (old key lost; signed by the new key only)' : ', signed by the old and the new key'}.`,
      result.retiredFile ? `The old key is kept in ${result.retiredFile}.` : '',
      `New verifier key (give it to whoever checks this log):`,
      result.verifierKey,
      'Start the server again to go on writing the log with the new key.',
    ].filter(Boolean).join('\n') + '\n');
    return;
  }
  if (action === 'consistency') {
    if (!seqText || !secondText || !/^\d+$/.test(seqText) || !/^\d+$/.test(secondText)) throw new UsageError(`two checkpoint tree sizes are required\n${auditUsage}`);
    const proof = await proveConsistency(location.dir, Number(seqText), Number(secondText));
    checkConsistency(proof.old_checkpoint, proof.new_checkpoint, proof.consistency_path);
    process.stdout.write(`${JSON.stringify({ ...proof, verifier_key: verifierKey(location.origin, await publicAuditKey(config, values.log)) }, null, 2)}\n`);
    return;
  }
  if (action === 'recover') {
    const key = await configuredAuditKey(config, values.log, false);
    const result = await recoverLog({ dir: location.dir, origin: location.origin, signingKey: key.privateKey, keySetting: auditKeySetting(key), log: silentLogger() });
    process.stdout.write([
      `audit log recovered: cut ${result.cutLines} damaged lines (${result.cutBytes} bytes) from ${result.segment}, from seq ${result.cutFromSeq} on;`,
      `the damaged segment is kept unchanged as ${result.keptIn}${result.setAside.length ? `, and ${result.setAside.length} checkpoints that signed other records are kept as set-aside-*` : ''}.`,
      `The log recorded audit.recovered at seq ${result.recoveredSeq}; the server can start again.`,
    ].join('\n') + '\n');
    return;
  }
  if (action === 'key') {
    process.stdout.write(`${verifierKey(location.origin, await publicAuditKey(config, values.log))}\n`);
    return;
  }
  throw new UsageError(auditUsage);
}

/** `audit witness URL`: one look (or one every --every seconds); a fork or a rollback exits 1. */
async function witnessCommand(config: Config, url: string | undefined, values: { state?: string | undefined; key?: string | undefined; every?: string | undefined }): Promise<void> {
  if (!url || !/^https?:\/\//.test(url)) throw new UsageError(`a checkpoint URL is required, e.g. https://auth.example.com/audit/checkpoint\n${auditUsage}`);
  if (values.every !== undefined && !/^[1-9]\d{0,5}$/.test(values.every)) throw new UsageError('--every: a number of seconds');
  const stateFile = values.state ?? join(config.dataDir, 'witness', `${new URL(url).host}${new URL(url).pathname}`.replace(/[^A-Za-z0-9.-]+/g, '_'));
  for (;;) {
    const report = await witnessOnce({ url, stateFile, verifierKey: values.key });
    if (report.status === 'fork' || report.status === 'rollback') {
      process.stderr.write(`ALERT ${report.status.toUpperCase()}: ${url}: ${report.detail} (last accepted checkpoint kept in ${stateFile})\n`);
      process.exitCode = 1;
      return;
    }
    const said = { first: 'first checkpoint kept', same: 'no new records', consistent: `consistent with the last checkpoint (${report.previousSize} records)` }[report.status];
    process.stdout.write(`witness: ${url}: ${report.size} records, ${said}\n`);
    if (values.every === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, Number(values.every) * 1000));
  }
}

/** Nothing matched in the chosen log: name the logs that do hold matches. */
async function sayWhereElse(auditDir: string, chosen: string, query: AuditQuery): Promise<void> {
  const elsewhere = new Map<string, number>();
  for await (const { log } of queryLogs(auditDir, query)) if (log !== chosen) elsewhere.set(log, (elsewhere.get(log) ?? 0) + 1);
  if (elsewhere.size === 0) return;
  const where = [...elsewhere].map(([log, count]) => `${count} in ${log ? `--log ${log}` : 'the server\'s own log (no --log)'}`);
  process.stderr.write(`no matching events in --log ${chosen}; ${where.join(', ')}\n`);
}

function describeHistory(entry: RecordedHandover): string {
  if (entry.type !== 'audit.recovered') return `${entry.type} at seq ${entry.seq}${entry.lost ? ' (old key lost)' : ''}`;
  const { segment, cut_from_seq: from, cut_lines: lines, kept_in: keptIn } = entry.event as Record<string, unknown>;
  return `audit.recovered at seq ${entry.seq}: ${String(lines)} damaged lines from seq ${String(from)} on were cut from ${String(segment)} (kept unchanged in ${String(keptIn)})`;
}

async function publicAuditKey(config: Config, name: string | undefined): Promise<KeyObject> {
  return createPublicKey((await configuredAuditKey(config, name, false)).privateKey);
}

function parseKeyOption(text: string): { name: string; publicKey: KeyObject } {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new UsageError(`--key: ${(error as Error).message}`);
  }
}

/** An ISO date or date-time; a bare date means the start (--from) or the end (--to) of that day, UTC. */
function dateOption(option: string, value: string | undefined, edge: 'start' | 'end'): Date | undefined {
  if (value === undefined) return undefined;
  const date = parseDateBound(value, edge);
  if (!date) throw new UsageError(`${option}: not a date (use 2026-01-31 or 2026-01-31T12:00:00Z)`);
  return date;
}
