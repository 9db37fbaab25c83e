/**
 * The records facade's types, its error and the one rule that tells logs from keyed sections:
 * apart from records.ts so its helpers (records-history.ts, records-fields.ts) can name them
 * without importing it back.
 */
import type * as Y from 'yjs';
import type { SchemaIssue, SectionName } from './health.ts';
import { VaultError } from './errors.ts';

export type KeyedSection = Exclude<SectionName, `list:${string}`>;
export type LogSection = Extract<SectionName, `list:${string}`>;
export type AnyRecord = Record<string, unknown> & { id: string; schemaVersion: number };

/** Validation failures carry the schema issues (paths and fixed messages, never values). */
export class RecordError extends VaultError {
  readonly issues: readonly SchemaIssue[];
  constructor(code: 'RECORD_INVALID' | 'RECORD_NOT_FOUND' | 'RECORD_READ_ONLY', message: string, issues: readonly SchemaIssue[] = []) {
    super(code, message);
    this.issues = issues;
  }
}

export interface RecordsContext {
  readonly doc: Y.Doc;
  /** Hex signing key of this device. */
  readonly me: string;
  readonly now: () => number;
  readonly canWrite: () => boolean;
  readonly authorOfClient: (clientId: number) => string | undefined;
}

/** A record an import writes (already validated by the import plan; checked again by checkImport). */
export interface ImportWrite {
  readonly section: SectionName;
  readonly record: Record<string, unknown>;
}

export const isLogSection = (s: SectionName): s is LogSection => s.startsWith('list:');
