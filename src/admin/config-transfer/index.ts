export { applyImport, type ImportOutcome, type TransferActor, type TransferDependencies } from './apply.ts';
export { exportConfiguration, type ExportResult } from './export.ts';
export { previewImport, type ImportPreview, type ImportProblem } from './preview.ts';
export type { Difference, SectionDiff } from './diff.ts';
export type { ConfigurationSources, SettingsPort } from './current-document.ts';
