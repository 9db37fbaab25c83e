/**
 * Importing a FHIR R4 file into a profile (issue 12, docs/decisions/0029): the pure plan
 * (src/lib/interop/fhir/import-*) compared with what the profile holds, then written as one
 * import: chunks under the record size cap, each sealed as its own record, one history line,
 * one undo step. A whole-file problem throws a typed VaultError and changes nothing.
 */
import { DEFAULT_MAX_RECORD_BYTES } from '../protocol/constants.ts';
import { diffPlan, type PlannedWrite } from '../interop/fhir/import-diff.ts';
import { patientMismatch } from '../interop/fhir/import-identity.ts';
import { planImport, type ImportPlan, type Rejected } from '../interop/fhir/import-plan.ts';
import { parseImportFile, type ImportFailure } from '../interop/fhir/import-read.ts';

export { MAX_IMPORT_BYTES } from '../interop/fhir/import-read.ts';
import { VaultError } from './errors.ts';
import { storeFiles, withDocuments, type PendingFile } from './fhir-import-documents.ts';
import type { Profile } from './profile.ts';
import type { SectionName } from './health.ts';
import { RecordError, type ImportWrite } from './records.ts';

/**
 * Records of one chunk, as JSON characters: a quarter of the record cap leaves room for Yjs
 * encoding, padding and sealing, so no chunk's record comes near the cap.
 */
export const IMPORT_CHUNK_CHARS = DEFAULT_MAX_RECORD_BYTES / 4;

export interface ImportReport {
  readonly resources: number;
  /** Records added or given a new version, per section. */
  readonly records: Record<string, number>;
  readonly unchanged: number;
  /** Resources kept verbatim (added or changed), per resource type. */
  readonly kept: Record<string, number>;
  readonly rejected: readonly Rejected[];
  /** Records edited on a device since their import, now holding a changed incoming version beside them. */
  readonly conflicts: number;
  /** What the history line names. */
  readonly source: string;
}

export interface ImportOptions {
  /** The file's name: the source of resources whose file names none (shown with them). */
  readonly fileName: string;
  /** Import even if the file's Patient differs from the profile's person. */
  readonly force?: boolean;
  readonly now?: () => number;
  /** Records of one chunk, as JSON characters (default IMPORT_CHUNK_CHARS; tests make it small). */
  readonly chunkChars?: number;
  /** Called after each chunk is written and sealed (the app's progress bar). */
  readonly progress?: (written: number, total: number) => void;
}

const MESSAGES: Readonly<Record<ImportFailure, string>> = {
  IMPORT_NOT_JSON: 'the file is not JSON',
  IMPORT_NOT_FHIR: 'the file is not a FHIR resource or Bundle',
  IMPORT_FHIR_VERSION: 'the file is FHIR of another version than R4',
  IMPORT_TOO_LARGE: 'the file is too large to import',
  IMPORT_UNSUPPORTED_BUNDLE: 'only document, collection, transaction, batch and searchset Bundles can be imported',
  IMPORT_MULTIPLE_PATIENTS: 'the file holds more than one patient',
  IMPORT_PATIENT_MISMATCH: "the file's patient differs from this profile's person (birth date or family name); confirm to import anyway",
};

/** Reads and plans an import without writing anything (the app's confirm step shows this). */
export function planFhirImport(profile: Profile, input: Uint8Array | string, o: ImportOptions): ImportPlan {
  const parsed = parseImportFile(input);
  if (!parsed.ok) throw new VaultError(parsed.code, MESSAGES[parsed.code]);
  const plan = planImport(parsed.value, { fileName: o.fileName, now: o.now ?? Date.now });
  if (!plan.ok) throw new VaultError(plan.code, MESSAGES[plan.code]);
  if (!o.force && plan.value.patient && patientMismatch(profile.records.get('demographics', 'patient'), plan.value.patient.record)) {
    throw new VaultError('IMPORT_PATIENT_MISMATCH', MESSAGES.IMPORT_PATIENT_MISMATCH);
  }
  return plan.value;
}

export async function importFhir(profile: Profile, input: Uint8Array | string, o: ImportOptions): Promise<ImportReport> {
  if (!profile.canWrite) throw new RecordError('RECORD_READ_ONLY', 'you can view this profile but not change it');
  const planned = planFhirImport(profile, input, o);
  // One path for the app and the CLI (decision 0037): DocumentReferences with inline attachments
  // become `documents` records whose files go to the blob store whenever the profile has one (a
  // relay); without one there is nowhere to put the bytes but the kept resource.
  const { plan, files } = profile.relayUrl ? withDocuments(planned) : { plan: planned, files: new Map<string, PendingFile[]>() };
  const diff = diffPlan(plan, storedReader(profile, plan));
  const writes: ImportWrite[] = [];
  for (const w of diff.writes) {
    const pending = w.change === 'conflict' ? undefined : files.get(w.planned.record.id);
    // Files first: a record is written only once the files it names are stored.
    writes.push({ section: w.planned.section, record: pending ? await storeFiles(profile, w.record, pending) : w.record });
  }
  profile.records.checkImport(writes);
  if (writes.length > 0) {
    const chunks = chunked(writes, o.chunkChars ?? IMPORT_CHUNK_CHARS);
    await profile.undo.asOneStep(async () => {
      let written = 0;
      for (let i = 0; i < chunks.length; i++) {
        const last = i === chunks.length - 1;
        profile.records.writeImport(chunks[i]!, last ? { source: plan.source, count: writes.length } : undefined);
        written += chunks[i]!.length;
        // Sealed before the next chunk, so each chunk is its own record under the cap.
        if (!last) await profile.flush();
        o.progress?.(written, writes.length);
      }
      // A document kept verbatim by an import without a blob store is now a documents record
      // (the same id): the kept copy, bytes and all, goes.
      for (const id of files.keys()) if (profile.records.get('kept', id)) profile.records.remove('kept', id);
    });
  }
  return report(plan, diff.writes, diff.unchanged, diff.conflicts);
}

/** The stored records the plan names, read once per section (a log's get scans the whole array). */
function storedReader(profile: Profile, plan: ImportPlan): (section: string, id: string) => Record<string, unknown> | undefined {
  const wanted = new Map<SectionName, Set<string>>();
  for (const r of plan.records) wanted.set(r.section, (wanted.get(r.section) ?? new Set()).add(r.record.id));
  const stored = new Map([...wanted].map(([section, ids]) => [section as string, profile.records.getMany(section, ids)]));
  return (section, id) => stored.get(section)?.get(id);
}

function chunked(writes: readonly ImportWrite[], budget: number): ImportWrite[][] {
  const chunks: ImportWrite[][] = [[]];
  let size = 0;
  for (const w of writes) {
    const n = JSON.stringify(w.record).length;
    if (size + n > budget && chunks.at(-1)!.length > 0) chunks.push([]), (size = 0);
    chunks.at(-1)!.push(w);
    size += n;
  }
  return chunks;
}

function report(plan: ImportPlan, writes: readonly PlannedWrite[], unchanged: number, conflicts: number): ImportReport {
  const records: Record<string, number> = {};
  const kept: Record<string, number> = {};
  for (const w of writes) {
    if (w.change === 'conflict') continue;
    if (w.planned.section === 'kept') kept[w.planned.resourceType] = (kept[w.planned.resourceType] ?? 0) + 1;
    else records[w.planned.section] = (records[w.planned.section] ?? 0) + 1;
  }
  return { resources: plan.resources, records, unchanged, kept, rejected: plan.rejected, conflicts, source: plan.source };
}
