/**
 * DocumentReferences with inline attachments (docs/decisions/0029, 0037): when the profile has a
 * blob store (a relay: the app, or the CLI with `--relay` or a stored relay), each becomes a
 * `documents` record whose bytes go to the encrypted blob store (decision 0015), never into the
 * profile doc. Without one they stay kept verbatim, as the plan made them.
 */
import { validateRecord } from '../../../crdt-schemas/health/sections.ts';
import type { ImportPlan, PlannedRecord } from '../interop/fhir/import-plan.ts';
import { recordDigestOf } from '../interop/fhir/import-plan.ts';
import { clean, concept, concepts, isObject, objects, str, type Json } from '../interop/fhir/import-values.ts';
import { fileHash, uploadBlob } from './blobs.ts';
import type { Profile } from './profile.ts';

export interface PendingFile {
  readonly bytes: Uint8Array;
  readonly title: string;
  readonly contentType: string;
}

/** The plan with its inline-attachment DocumentReferences as `documents` records, and their files by record id. */
export function withDocuments(plan: ImportPlan): { plan: ImportPlan; files: Map<string, PendingFile[]> } {
  const files = new Map<string, PendingFile[]>();
  const records = plan.records.map((p) => {
    if (p.section !== 'kept' || p.resourceType !== 'DocumentReference') return p;
    const made = documentOf(p);
    if (!made) return p;
    files.set(made.planned.record.id, made.files);
    return made.planned;
  });
  return { plan: { ...plan, records }, files };
}

function documentOf(p: PlannedRecord): { planned: PlannedRecord; files: PendingFile[] } | undefined {
  const r = p.record.resource as Json;
  const content = objects(r.content);
  const files: PendingFile[] = [];
  const attachments: Json[] = [];
  for (const c of content) {
    const a = isObject(c.attachment) ? c.attachment : undefined;
    const bytes = a && typeof a.data === 'string' ? decodeBase64(a.data) : undefined;
    const contentType = str(a?.contentType)?.split(';')[0]!.trim().toLowerCase();
    if (!a || !bytes || !contentType) return undefined;
    const title = str(a.title)?.trim().slice(0, 400) ?? (concept(r.type)?.text as string | undefined)?.slice(0, 400) ?? 'Document';
    files.push({ bytes, title, contentType });
    attachments.push(clean({ title, contentType, size: bytes.length, hash: fileHash(bytes), creation: str(a.creation) }));
  }
  if (files.length === 0) return undefined;
  const record = clean({
    id: p.record.id,
    schemaVersion: 1,
    resourceType: 'DocumentReference',
    status: str(r.status),
    type: concept(r.type),
    category: concepts(r.category),
    date: str(r.date),
    description: str(r.description),
    content: attachments.map((attachment) => ({ attachment })),
    meta: p.record.meta,
    imported: p.record.imported,
  });
  const v = validateRecord('documents', record);
  if (!v.ok) return undefined;
  const value = v.value as PlannedRecord['record'];
  value.imported = { ...value.imported, recordDigest: recordDigestOf(value) };
  return { planned: { ...p, section: 'documents', record: value }, files };
}

/** Stores a document record's files and returns the record naming them (url and key in each attachment). */
export async function storeFiles(profile: Profile, record: Json, files: readonly PendingFile[]): Promise<Json> {
  const content: Json[] = [];
  for (const [i, f] of files.entries()) {
    const stored = await uploadBlob(profile, f.bytes, { title: f.title, contentType: f.contentType });
    const before = (objects(record.content)[i]?.attachment ?? {}) as Json;
    content.push({ attachment: { ...before, url: stored.url, key: stored.key } });
  }
  const out: Json = { ...record, content };
  // The stored record names its files: that is the import's version of it, not a device's edit.
  out.imported = { ...(record.imported as Json), recordDigest: recordDigestOf(out) };
  return out;
}

function decodeBase64(data: string): Uint8Array | undefined {
  try {
    const binary = atob(data.replace(/\s+/g, ''));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}
