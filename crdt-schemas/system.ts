/**
 * The plain doc's system maps: data the vault itself keeps beside the health records (a
 * person's list of profiles, device-link records, device labels, members' chosen names). Each
 * is declared once here with its validator, and read and written only through
 * `SystemMap` (src/lib/vault/system-map.ts): a value that does not validate is never written,
 * and one that arrives invalid from another replica reads as absent.
 */
import { z } from 'zod';

export interface SystemMapDef<T> {
  /** Root map name in the plain doc. */
  readonly root: string;
  readonly schema: z.ZodType<T>;
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(200);
const hex = z.string().regex(/^[0-9a-f]*$/).max(128);

export const VaultEntrySchema = z.object({
  name: z.string().max(200),
  relationship: z.string().max(200),
  docId: base64url,
  role: z.enum(['owner', 'editor', 'viewer', 'clinician', 'emergency']),
  epoch: z.number().int().nonnegative(),
  epochKeys: z.record(z.string().regex(/^\d+$/), base64url),
  genesisNonce: base64url.optional(),
});
export type VaultEntry = z.infer<typeof VaultEntrySchema>;

export const LinkRecordSchema = z.object({
  expiresAt: z.number().int().nonnegative(),
  /** Device id (hex) of the device that used the link; null while unused. */
  usedBy: hex.nullable(),
});
export type LinkRecord = z.infer<typeof LinkRecordSchema>;

/** A person's vault: the profiles it holds, by document id. */
export const PROFILES_MAP: SystemMapDef<VaultEntry> = { root: 'profiles', schema: VaultEntrySchema };
/** Device-link records, by link id. */
export const DEVICE_LINKS_MAP: SystemMapDef<LinkRecord> = { root: 'device-links', schema: LinkRecordSchema };
/** Labels people gave their devices, by device id. */
export const DEVICE_LABELS_MAP: SystemMapDef<string> = { root: 'device-labels', schema: z.string().min(1).max(40) };
/**
 * Names members chose for themselves, by signing key (hex): in a profile, writers' own (readers
 * name themselves by audit entry, decision 0038); in a person's vault, the person's name by
 * identity key, which every device of theirs uses.
 */
export const MEMBER_NAMES_MAP: SystemMapDef<string> = { root: 'member-names', schema: z.string().min(1).max(64) };
/** Names owners gave invitations and clinician sessions when making them, by invite key (hex; decision 0038). */
export const INVITE_NAMES_MAP: SystemMapDef<string> = { root: 'invite-names', schema: z.string().min(1).max(64) };

/**
 * SMART Health Links this profile's owners made (docs/decisions/0031), by manifest id, so every
 * owner device lists and can revoke them (the relay has no list endpoint). Never the link's key
 * nor the passcode: the list says only that a passcode was set.
 */
export const HealthLinkRecordSchema = z.object({
  label: z.string().max(200),
  createdAt: z.number().int().nonnegative(),
  /** Milliseconds since the epoch; 0 = no expiry (a CLI link made without one). */
  expiresAt: z.number().int().nonnegative(),
  passcode: z.boolean(),
  /** When an owner revoked it; null while not revoked. */
  revokedAt: z.number().int().nonnegative().nullable(),
});
export type HealthLinkRecord = z.infer<typeof HealthLinkRecordSchema>;
export const HEALTH_LINKS_MAP: SystemMapDef<HealthLinkRecord> = { root: 'health-links', schema: HealthLinkRecordSchema };
