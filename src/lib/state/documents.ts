/**
 * Document files for the documents section (docs/decisions/0015). A new document's file is
 * encrypted and stored on the relay first; the record saved afterwards holds only its metadata
 * and key (`content: [{ attachment }]`, passed to the form as `previous` so `fromForm` keeps it).
 */
import { blobRef, describeError, downloadBlob, uploadBlob, MAX_FILE_BYTES, type BlobAttachment } from '../vault/app.ts';
import type { FormValues } from './forms/types.ts';
import type { ProfileState } from './profile.svelte.ts';

/** The largest file a document can hold. */
export const MAX_DOCUMENT_BYTES = MAX_FILE_BYTES;

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** What the screen shows of a document's file. */
export interface DocumentFileInfo {
  readonly title: string;
  readonly size: number;
  readonly contentType: string;
}

export interface DownloadedFile {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** A file uploaded for a save that then failed validation is reused when the person retries. */
const uploaded = new WeakMap<File, { readonly docId: string; readonly attachment: BlobAttachment }>();

const attachmentOf = (record: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
  const content = record?.content;
  const first = Array.isArray(content) ? (content[0] as { attachment?: unknown } | undefined) : undefined;
  const attachment = first?.attachment;
  return attachment && typeof attachment === 'object' ? (attachment as Record<string, unknown>) : undefined;
};

/** The stored file of a document record, if it has one this app can fetch. */
export function documentFile(record: Record<string, unknown>): DocumentFileInfo | undefined {
  const a = attachmentOf(record);
  if (!blobRef(a)) return undefined;
  return {
    title: typeof a!.title === 'string' ? a!.title : 'Document',
    size: typeof a!.size === 'number' ? a!.size : 0,
    contentType: typeof a!.contentType === 'string' ? a!.contentType : 'application/octet-stream',
  };
}

/**
 * Saves a document: an edit changes the metadata only; a new one needs `file`, which is sealed
 * and uploaded before the record is written. Returns field errors or null, like `state.save`.
 */
export async function saveDocument(
  state: ProfileState,
  values: FormValues,
  previous: Record<string, unknown> | undefined,
  file: File | null,
): Promise<Record<string, string> | null> {
  if (previous || !file) return state.save('documents', values, previous);
  const title = typeof values.title === 'string' && values.title.trim() ? values.title : file.name;
  let attachment = uploaded.get(file)?.docId === state.docId ? uploaded.get(file)!.attachment : undefined;
  if (!attachment) {
    try {
      attachment = await uploadBlob(state.profile, new Uint8Array(await file.arrayBuffer()), { title, contentType: file.type });
    } catch (e) {
      return { _form: describeError(e) };
    }
    uploaded.set(file, { docId: state.docId, attachment });
  }
  const errors = state.save('documents', { ...values, title }, { content: [{ attachment }] });
  if (!errors) uploaded.delete(file);
  return errors;
}

/** Fetches and decrypts a document's file (checked against the record before it is returned). */
export async function downloadDocument(state: ProfileState, record: Record<string, unknown>): Promise<Outcome<DownloadedFile>> {
  const attachment = attachmentOf(record);
  try {
    const bytes = await downloadBlob(state.profile, attachment ?? {});
    return { ok: true, value: { bytes, name: documentFile(record)?.title ?? 'document' } };
  } catch (e) {
    return { ok: false, message: describeError(e) };
  }
}
