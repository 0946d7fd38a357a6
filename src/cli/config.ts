import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { UserDirectory } from '../authorization-server/accounts/users.ts';
import { applyImport, exportConfiguration, previewImport, type ImportPreview, type TransferDependencies } from '../admin/config-transfer/index.ts';
import { cliActor } from '../admin/admin-events.ts';
import { differenceLines, signatureText } from '../admin/config-transfer/describe.ts';
import { DISABLED_AUDIT } from '../audit/index.ts';
import { loadConfigSignatureKey, signDocument, type Config } from '../config/index.ts';
import { silentLogger } from '../log/index.ts';
import { openSettings } from '../settings/index.ts';
import { openStore } from '../storage/index.ts';
import { readStdin, UsageError } from './io.ts';

export const configUsage = `portcullis config export [--output FILE]
portcullis config import <file|-> [--dry-run]
portcullis config sign <file> [--output FILE]   (signs CONFIG_FILE or an export with CONFIG_SIGNATURE_KEY)`;


/** Export and import the whole configuration; changes reach the audit log through the running server (audit outbox). */
export async function configCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { output: { type: 'string' }, 'dry-run': { type: 'boolean' } } });
  const [action, file] = positionals;
  if (action !== 'export' && action !== 'import') throw new UsageError(configUsage);
  if (action === 'import' && !file) throw new UsageError(`a file is required (- reads the document from standard input)\n${configUsage}`);
  const store = await openStore(config);
  try {
    const audit = config.audit === 'off' ? DISABLED_AUDIT : auditOutbox(store);
    const deps: TransferDependencies = { config, store, users: new UserDirectory(store), settings: await openSettings({ config, store, audit }), audit, log: silentLogger() };
    if (action === 'export') {
      const exported = await exportConfiguration(deps, cliActor());
      if (values.output) await writeFile(values.output, exported.text, { mode: 0o600 });
      else process.stdout.write(exported.text);
      process.stderr.write(exported.signed ? `signed with CONFIG_SIGNATURE_KEY\n` : 'not signed: CONFIG_SIGNATURE_KEY is not set or holds only a public key\n');
      return;
    }
    const text = file === '-' ? await readStdin() : await readDocument(file!);
    if (values['dry-run']) {
      const preview = await previewImport(text, deps);
      printPreview(preview);
      if (!preview.ok) throw new UsageError('the document is refused; nothing was applied');
      process.stdout.write('dry run: nothing was applied\n');
      return;
    }
    const outcome = await applyImport(text, deps, { actor: cliActor() });
    if (outcome.status === 'conflict') throw new UsageError(outcome.message);
    printPreview(outcome.preview);
    if (outcome.status === 'refused') throw new UsageError('the document is refused; nothing was applied');
    for (const { client_id, client_secret } of outcome.newSecrets) process.stdout.write(`new client_secret for ${client_id}: ${client_secret} (shown once)\n`);
    process.stdout.write('applied\n');
  } finally {
    await store.close();
  }
}

/** `config sign` needs only CONFIG_SIGNATURE_KEY, not a configuration that loads (the file to sign may be CONFIG_FILE itself). */
export async function signCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { output: { type: 'string' } } });
  const file = positionals[1];
  if (!file) throw new UsageError(`a file is required\n${configUsage}`);
  const key = loadConfigSignatureKey(env.CONFIG_SIGNATURE_KEY);
  if (!key) throw new UsageError('CONFIG_SIGNATURE_KEY is not set: give the Ed25519 private key (PEM, or the path of one)');
  if (!key.privateKey) throw new UsageError('CONFIG_SIGNATURE_KEY holds only a public key: sign where the private key is');
  let document: unknown;
  try {
    document = JSON.parse(await readDocument(file));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${file} is not JSON`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new UsageError(`${file} is not a JSON object`);
  const target = values.output ?? file;
  await writeFile(target, `${JSON.stringify(signDocument(document as Record<string, unknown>, key), null, 2)}\n`);
  process.stdout.write(`signed ${target} (key ${key.keyId})\n`);
}

async function readDocument(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function printPreview(preview: ImportPreview): void {
  const lines = [signatureText(preview.signature)];
  if (preview.document) lines.push(`document: exported ${preview.document.exportedAt} by ${preview.document.issuer}`);
  for (const section of preview.sections) {
    const differences = differenceLines(section);
    lines.push(`${section.title}${section.fixedBy ? ` (fixed by ${section.fixedBy})` : ''}: ${differences.length === 0 ? 'no changes' : `${differences.length} change${differences.length === 1 ? '' : 's'}`}`, ...differences);
  }
  for (const problem of preview.problems) lines.push(`refused: ${problem.path}: ${problem.message}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
