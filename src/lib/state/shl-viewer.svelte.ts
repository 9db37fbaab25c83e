/**
 * The SMART Health Link viewer's state (src/routes/shl): reads the link from the page's
 * fragment, asks for a passcode when the link says P, opens it through the facade and keeps a
 * readable view of the IPS. It needs no vault, identity or profile; the link and passcode stay
 * in memory. Errors are shown by their code's meaning, never with the link or content.
 */
import { ipsView, isExpired, openSharedLink, ShlError, decodeShlink, type IpsView, type ShlPayload } from '../vault/shl.ts';

/** Who is looking, as the manifest request must say (the spec's `recipient`). */
const RECIPIENT = 'Family Health Vault viewer';

export type ViewerPhase = 'empty' | 'passcode' | 'opening' | 'shown' | 'error';

const MESSAGES: Record<string, string> = {
  SHL_MALFORMED: 'This is not a valid SMART Health Link.',
  SHL_EXPIRED: 'This link has expired. Ask the sender for a new one.',
  SHL_NOT_FOUND: 'This link is no longer active: it was revoked, expired, or too many wrong passcodes were tried.',
  SHL_DECRYPT_FAILED: 'The shared record could not be decrypted with this link.',
  SHL_CONTENT_UNSUPPORTED: 'This link shares nothing this viewer can show.',
  SHL_FETCH_FAILED: 'The shared record could not be fetched. Check the connection and try again.',
};

export class ShlViewer {
  phase = $state<ViewerPhase>('empty');
  label = $state<string | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  remainingAttempts = $state<number | undefined>(undefined);
  views = $state<IpsView[]>([]);
  private link: string | undefined;
  private payload: ShlPayload | undefined;

  /** Starts from a page fragment (`#shlink:/…`) or any text holding a link. */
  async start(text: string): Promise<void> {
    this.reset();
    if (text.trim() === '') return; // no link in the address: the page explains what it is for
    try {
      this.payload = decodeShlink(text);
    } catch (e) {
      return this.fail(e);
    }
    this.link = text;
    this.label = this.payload.label;
    if (isExpired(this.payload, Date.now())) return this.fail(new ShlError('SHL_EXPIRED', 'expired'));
    if (this.payload.flag?.includes('P')) {
      this.phase = 'passcode';
      return;
    }
    await this.open(undefined);
  }

  async submitPasscode(passcode: string): Promise<void> {
    if (!this.link || passcode === '') return;
    await this.open(passcode);
  }

  private async open(passcode: string | undefined): Promise<void> {
    this.phase = 'opening';
    this.error = undefined;
    try {
      const { files } = await openSharedLink(this.link!, { recipient: RECIPIENT, passcode });
      this.views = files.map((f) => ipsView(f.json));
      this.phase = 'shown';
    } catch (e) {
      if (e instanceof ShlError && e.code === 'SHL_PASSCODE_WRONG') {
        this.remainingAttempts = e.remainingAttempts;
        this.error = 'That passcode was not accepted.';
        this.phase = 'passcode';
        return;
      }
      this.fail(e);
    }
  }

  private reset(): void {
    this.phase = 'empty';
    this.error = undefined;
    this.remainingAttempts = undefined;
    this.views = [];
    this.label = undefined;
  }

  private fail(e: unknown): void {
    this.error = (e instanceof ShlError && MESSAGES[e.code]) || 'The link could not be opened.';
    this.phase = 'error';
  }
}
