/**
 * The app's FHIR import as a small state machine (issue 12, docs/decisions/0034):
 *
 *   idle → choose(file) → plan | mismatch | failed
 *   mismatch → confirmMismatch() → plan            (the file's patient differs: said, then confirmed)
 *   plan → start() → importing(written/total) → done(report) | failed
 *   any → reset() → idle                          (not while importing: one import is one step)
 *
 * It reads and writes only through the vault facade (planFhirImport, importFhir); the progress
 * is the facade's own callback, called after each chunk is sealed. Error messages come from the
 * facade's coded errors and never repeat the file's content.
 */
import { describeError, VaultError } from '../vault/errors.ts';
import { importFhir, planFhirImport, type ImportOptions } from '../vault/fhir-import.ts';
import type { Profile } from '../vault/profile.ts';
import { summarisePlan, summariseReport, type PlanSummary, type ReportSummary } from './fhir-import.ts';

export type ImportPhase =
  | { readonly step: 'idle' }
  | { readonly step: 'mismatch'; readonly fileName: string }
  | { readonly step: 'plan'; readonly plan: PlanSummary; readonly forced: boolean }
  | { readonly step: 'importing'; readonly written: number; readonly total: number }
  | { readonly step: 'done'; readonly report: ReportSummary }
  | { readonly step: 'failed'; readonly message: string; readonly code?: string };

export interface ImportFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What the flow passes on to the facade (tests make chunks small). Documents go to the blob store when the profile has a relay. */
export type FlowOptions = Pick<ImportOptions, 'now' | 'chunkChars'>;

export class FhirImportFlow {
  phase = $state<ImportPhase>({ step: 'idle' });
  private file: ImportFile | null = null;
  private forced = false;
  private readonly profile: Profile;
  private readonly o: FlowOptions;

  constructor(profile: Profile, o: FlowOptions = {}) {
    this.profile = profile;
    this.o = o;
  }

  /** Owners and editors import; viewers and guests do not see the button. */
  get allowed(): boolean {
    return this.profile.canWrite;
  }

  get busy(): boolean {
    return this.phase.step === 'importing';
  }

  /** Reads and plans the file: nothing is written until start(). */
  choose(file: ImportFile): void {
    if (this.busy) return;
    this.file = file;
    this.forced = false;
    this.planNow();
  }

  /** The person confirmed that this file's patient is the profile's person after all. */
  confirmMismatch(): void {
    if (this.phase.step !== 'mismatch') return;
    this.forced = true;
    this.planNow();
  }

  async start(): Promise<void> {
    if (this.phase.step !== 'plan' || !this.file) return;
    const file = this.file;
    this.phase = { step: 'importing', written: 0, total: 0 };
    try {
      const report = await importFhir(this.profile, file.bytes, {
        ...this.o,
        fileName: file.name,
        force: this.forced,
        progress: (written, total) => (this.phase = { step: 'importing', written, total }),
      });
      this.phase = { step: 'done', report: summariseReport(report) };
    } catch (e) {
      this.fail(e);
    } finally {
      // The file's bytes are not kept once imported (or refused).
      this.file = null;
    }
  }

  reset(): void {
    if (this.busy) return;
    this.file = null;
    this.forced = false;
    this.phase = { step: 'idle' };
  }

  private planNow(): void {
    const file = this.file!;
    try {
      const plan = planFhirImport(this.profile, file.bytes, { ...this.o, fileName: file.name, force: this.forced });
      this.phase = { step: 'plan', plan: summarisePlan(plan), forced: this.forced };
    } catch (e) {
      if (e instanceof VaultError && e.code === 'IMPORT_PATIENT_MISMATCH') this.phase = { step: 'mismatch', fileName: file.name };
      else this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.file = null;
    this.phase = { step: 'failed', message: describeError(e), ...(e instanceof VaultError ? { code: e.code } : {}) };
  }
}
