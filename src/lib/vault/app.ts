/**
 * The vault API of the app's state layer (src/lib/state): everything a screen's state needs,
 * and nothing of yjs, tweetnacl or the provider.
 */
export { Role, roleName, type RoleName, type AuditKindName } from '../protocol/index.ts';
export type { Profile } from './profile.ts';
export type { SyncStatus } from '../sync/status.ts';
export type { PresenceEntry } from '../sync/presence.ts';
export type { ConflictNotice } from './profile-conflicts.ts';
export { RecordError, type HistoryEntry } from './records.ts';
export { transformIndex, type NoteChange, type NoteHandle } from './note.ts';
export type { AuditTrail, AuditEvent } from './audit-trail.ts';
export { membersOf, openInvites, removeMemberByKey, revokeDeviceByKey, nameOfKey, nameSources, accessEnded, type NameSources, type MemberView, type InviteView } from './people.ts';
export { keepAnnounced, nameInvitation, nameInviteByKey, NAME_LIMIT } from './names.ts';
export { keepDeparturesCovered } from './self.ts';
export { createInvitation, startClinicianSession, parseInviteLink, inviteState, type InviteState } from './invite.ts';
export { memberSafetyCodes, personSafetyCode } from './safety-codes.ts';
export { describeError } from './browser.ts';
export { VaultError } from './errors.ts';
export type { SectionName, SectionRecord, SchemaIssue } from './health.ts';
export { uploadBlob, downloadBlob, blobRef, MAX_FILE_BYTES, type BlobAttachment, type AttachmentRef } from './blobs.ts';
