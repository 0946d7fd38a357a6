import { createHash } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { signDocument } from '../../config/index.ts';
import { recordAdminEvent } from '../admin-events.ts';
import type { TransferActor, TransferDependencies } from './apply.ts';
import { currentDocument } from './current-document.ts';

export interface ExportResult {
  /** The document, indented for reading; the signature covers its canonical form, not the layout. */
  text: string;
  /** Signed when CONFIG_SIGNATURE_KEY holds a private key. */
  signed: boolean;
  fileName: string;
}

/** The whole configuration as one JSON document, signed with CONFIG_SIGNATURE_KEY when it can be; the export is audited. */
export async function exportConfiguration(deps: TransferDependencies, actor: TransferActor, now = new Date()): Promise<ExportResult> {
  await deps.settings.refresh();
  const body = await currentDocument(deps, now);
  const key = deps.config.configSignatureKey;
  const document = key?.privateKey ? signDocument(body, key) : body;
  await recordAdminEvent(deps.audit, deps.log, {
    type: 'admin.config.exported', actor, signed: document !== body,
    document_sha256: createHash('sha256').update(canonicalJson(document)).digest('hex'),
  });
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return { text: `${JSON.stringify(document, null, 2)}\n`, signed: document !== body, fileName: `portcullis-config-${stamp}.json` };
}
