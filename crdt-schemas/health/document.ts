/**
 * Documents (FHIR DocumentReference): metadata only. The bytes live in the encrypted blob store,
 * never in the profile doc, so inline `attachment.data` is refused.
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, FhirInstant, recordBase } from './common.ts';

export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;

export const AttachmentMeta = z.looseObject({
  title: z.string().trim().min(1).max(400),
  contentType: z.string().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i, 'must be a MIME type'),
  size: z.int().min(0).max(MAX_ATTACHMENT_BYTES),
  /** SHA-256 of the plaintext bytes, base64 (FHIR's hash element is base64Binary). */
  hash: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 digest'),
  creation: FhirDateTime.optional(),
  data: z.never({ error: 'attachments hold metadata only, not the bytes' }).optional(),
});

export const DocumentReferenceRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('DocumentReference'),
  status: z.enum(['current', 'superseded', 'entered-in-error']),
  type: Concept.optional(),
  category: z.array(Concept).max(5).optional(),
  date: FhirInstant.optional(),
  description: z.string().max(4000).optional(),
  content: z.array(z.looseObject({ attachment: AttachmentMeta })).min(1).max(10),
});
export type DocumentReferenceRecord = z.infer<typeof DocumentReferenceRecord>;

export const documentReference = defineKind({ kind: 'DocumentReference', schema: DocumentReferenceRecord, schemaVersion: 1 });
