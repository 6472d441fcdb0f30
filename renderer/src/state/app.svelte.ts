// The application's state: identity, relay status, contacts, the open conversation and settings,
// fed by the engine's events. Platform pieces and the engine factory are injected (main.ts wires them).
import type {
  ChatMessage,
  Contact,
  ContactRequestView,
  IdentityId,
  MessengerEventMap,
  OwnIdentity,
  Unsubscribe,
} from '../../../core/src/api.js';
import type { ParleyBridge } from '../../../core/src/bridge.js';
import type { KeyValueStore } from '../../../core/src/platform/types.js';
import { t } from '../i18n/index.svelte.js';
import { Conversation } from './conversation.svelte.js';
import type { EngineLike } from './engine.js';
import { SettingsState } from './settings.svelte.js';
import { toRtcIceServers, type Settings } from './settings-schema.js';
import { ToastState } from './toasts.svelte.js';
import { UiState } from './ui.svelte.js';

export type Phase = 'loading' | 'first-run' | 'starting' | 'ready' | 'fatal' | 'other-tab';

export interface EngineOptions {
  /** Display name for a new identity (first run); ignored when one exists. */
  name?: string;
  relays: string[];
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  /** Always use the relay (sessions and calls). */
  relayOnly: boolean;
}

export interface AppDeps {
  bridge: ParleyBridge;
  uiStore: KeyValueStore;
  hasIdentity(): Promise<boolean>;
  openEngine(options: EngineOptions): Promise<EngineLike>;
  defaultSettings: Settings;
  /** Resolves true when this tab may run the identity (no other tab has it open). */
  acquireInstanceLock?(): Promise<boolean>;
  isVisible?(): boolean;
}

export function displayName(contact: Pick<Contact, 'name' | 'id'>): string {
  return contact.name.trim() || t('contact.unnamed', { id: contact.id.slice(0, 8) });
}

function byRecent(a: Contact, b: Contact): number {
  return (
    (b.lastMessageAt ?? b.addedAt) - (a.lastMessageAt ?? a.addedAt) || displayName(a).localeCompare(displayName(b))
  );
}

export class AppState {
  phase = $state<Phase>('loading');
  fatalError = $state<string | null>(null);
  identity = $state<OwnIdentity | null>(null);
  relay = $state<MessengerEventMap['relay']>({ state: 'connecting', url: null });
  contacts = $state<Contact[]>([]);
  /** People who asked to connect with us, oldest first. */
  requests = $state<ContactRequestView[]>([]);
  activeId = $state<IdentityId | null>(null);
  /** Security warnings per contact (a refused session), shown in that chat. */
  warnings = $state<Record<IdentityId, string>>({});
  readonly sortedContacts = $derived([...this.contacts].sort(byRecent));
  readonly active = $derived(this.contacts.find((c) => c.id === this.activeId) ?? null);
  readonly unreadTotal = $derived(this.contacts.reduce((n, c) => n + c.unread, 0));

  readonly settings: SettingsState;
  readonly toasts = new ToastState();
  readonly ui = new UiState();
  private readonly conversations = new Map<IdentityId, Conversation>();
  private engine: EngineLike | null = null;
  private subscriptions: Unsubscribe[] = [];
  /** Handlers other state (transfers, calls) registers to run when an engine opens. */
  private readonly engineListeners = new Set<(engine: EngineLike | null) => void>();

  constructor(readonly deps: AppDeps) {
    this.settings = new SettingsState(deps.uiStore, deps.defaultSettings);
  }

  get currentEngine(): EngineLike | null {
    return this.engine;
  }

  onEngine(listener: (engine: EngineLike | null) => void): () => void {
    this.engineListeners.add(listener);
    if (this.engine) listener(this.engine);
    return () => this.engineListeners.delete(listener);
  }

  async boot(): Promise<void> {
    try {
      if (this.deps.acquireInstanceLock && !(await this.deps.acquireInstanceLock())) {
        this.phase = 'other-tab';
        return;
      }
      await this.settings.load();
      if (this.settings.relays.length === 0 && this.deps.defaultSettings.relays.length > 0) {
        await this.settings.save({ ...this.settings.snapshot(), relays: this.deps.defaultSettings.relays });
      }
      if (await this.deps.hasIdentity()) await this.start();
      else this.phase = 'first-run';
    } catch (err) {
      this.fail(err);
    }
  }

  /** First run: creates the identity with this name and the chosen relay. */
  async createIdentity(name: string, relays: string[]): Promise<void> {
    await this.settings.save({ ...this.settings.snapshot(), relays });
    await this.start(name);
  }

  private fail(err: unknown): void {
    this.fatalError = err instanceof Error ? err.message : String(err);
    this.phase = 'fatal';
  }

  private async start(name?: string): Promise<void> {
    this.phase = 'starting';
    const engine = await this.deps.openEngine({
      ...(name !== undefined ? { name } : {}),
      relays: [...this.settings.relays],
      iceServers: toRtcIceServers(this.settings.iceServers),
      relayOnly: this.settings.relayOnly,
    });
    this.contacts = [];
    await this.attach(engine);
    this.phase = 'ready';
  }

  private async attach(engine: EngineLike): Promise<void> {
    this.engine = engine;
    this.identity = engine.identity;
    // Subscribe first so no event between the snapshot and the subscription is lost.
    this.subscriptions = [
      engine.on('relay', (r) => (this.relay = r)),
      engine.on('contact', (c) => this.upsertContact(c)),
      engine.on('message', (m) => this.onMessage(m)),
      engine.on('path', ({ contactId, path }) => {
        const c = this.contacts.find((x) => x.id === contactId);
        if (c) c.path = path;
      }),
      engine.on('error', (e) => this.onEngineError(e)),
      engine.on('requests', (list) => (this.requests = list)),
    ];
    this.requests = engine.requests();
    this.relay = engine.relayState();
    const snapshot = await engine.contacts();
    for (const c of snapshot) if (!this.contacts.some((x) => x.id === c.id)) this.contacts.push(c);
    for (const l of this.engineListeners) l(engine);
  }

  private async detach(): Promise<void> {
    for (const off of this.subscriptions) off();
    this.subscriptions = [];
    const engine = this.engine;
    this.engine = null;
    for (const l of this.engineListeners) l(null);
    this.conversations.clear();
    if (engine) await engine.close();
  }

  /** Applies settings that the engine reads at start (relays, TURN servers) by reopening it. */
  async applySettings(next: Settings): Promise<void> {
    const old = this.settings.snapshot();
    await this.settings.save(next);
    const needsRestart =
      JSON.stringify(old.relays) !== JSON.stringify(next.relays) ||
      JSON.stringify(old.iceServers) !== JSON.stringify(next.iceServers) ||
      old.relayOnly !== next.relayOnly;
    if (needsRestart && this.phase === 'ready') {
      await this.detach();
      try {
        await this.start();
      } catch (err) {
        this.fail(err);
      }
    }
  }

  /**
   * A session error is a refusal (tampered fingerprint, impersonation, bad transcript): shown in the
   * chat as a lasting warning and announced once.
   */
  private onEngineError(e: MessengerEventMap['error']): void {
    if (e.contactId) {
      this.warnings[e.contactId] = e.message;
      const c = this.contacts.find((x) => x.id === e.contactId);
      this.toasts.error(
        t('chat.sessionRefused', { name: c ? displayName(c) : e.contactId.slice(0, 8), error: e.message }),
      );
      return;
    }
    this.toasts.error(e.message);
  }

  /** A contact rang with a Parley whose calls cannot work with ours: say who, and that an update is needed. */
  callIncompatible(contactId: string): void {
    const c = this.contacts.find((x) => x.id === contactId);
    this.toasts.error(t('call.incompatible', { name: c ? displayName(c) : contactId.slice(0, 8) }));
  }

  private upsertContact(c: Contact): void {
    const i = this.contacts.findIndex((x) => x.id === c.id);
    const wasOnline = i >= 0 && this.contacts[i]!.online;
    if (i >= 0) this.contacts[i] = c;
    else this.contacts.push(c);
    // The open chat's contact came online: connect now, not when the user sends.
    if (c.id === this.activeId && c.online && !wasOnline) this.engine?.connect(c.id);
  }

  private isVisible(): boolean {
    return this.deps.isVisible ? this.deps.isVisible() : true;
  }

  private onMessage(m: ChatMessage): void {
    this.conversations.get(m.contactId)?.upsert(m);
    if (m.direction !== 'in' || m.read) return;
    if (m.contactId === this.activeId && this.isVisible()) {
      void this.markRead(m.contactId, true);
      return;
    }
    if (this.settings.notifications) {
      const c = this.contacts.find((x) => x.id === m.contactId);
      void this.deps.bridge
        .notify({
          kind: 'message',
          title: c ? displayName(c) : t('app.name'),
          body: m.text.slice(0, 200),
          contactId: m.contactId,
        })
        .catch(() => undefined);
    }
  }

  conversation(contactId: IdentityId): Conversation {
    let conv = this.conversations.get(contactId);
    if (!conv) {
      conv = new Conversation(contactId, () => this.engine);
      this.conversations.set(contactId, conv);
    }
    return conv;
  }

  select(contactId: IdentityId | null): void {
    this.activeId = contactId;
    this.ui.showListOnNarrow = contactId === null;
    if (contactId) {
      const conv = this.conversation(contactId);
      if (!conv.loadedOnce) void conv.loadOlder();
      // Connect while the user reads and types: the message (or file, or call) then starts at once.
      this.engine?.connect(contactId);
      if (this.isVisible()) void this.markRead(contactId);
    }
  }

  /** Called when the user is back at a visible page: the open chat's messages are now seen. */
  onVisible(): void {
    if (this.activeId) void this.markRead(this.activeId);
  }

  /** `arrived`: a message just came in, before the contact's new unread count has reached us. */
  async markRead(contactId: IdentityId, arrived = false): Promise<void> {
    const c = this.contacts.find((x) => x.id === contactId);
    if (!this.engine || !c || (c.unread === 0 && !arrived)) return;
    c.unread = 0;
    try {
      await this.engine.markRead(contactId);
    } catch (err) {
      this.toasts.error(err instanceof Error ? err.message : String(err));
    }
  }

  async send(contactId: IdentityId, text: string): Promise<boolean> {
    const body = text.replace(/^\s+\n|\s+$/g, '');
    if (!this.engine || body.trim() === '') return false;
    try {
      const m = await this.engine.send(contactId, body);
      this.conversation(contactId).upsert(m);
      return true;
    } catch (err) {
      this.toasts.error(t('chat.sendFailed', { error: err instanceof Error ? err.message : String(err) }));
      return false;
    }
  }

  async addContact(invite: string): Promise<Contact> {
    if (!this.engine) throw new Error(t('app.notReady'));
    const c = await this.engine.addContact(invite);
    this.upsertContact(c);
    return c;
  }

  /** Answers a contact request; accepting opens the new contact's chat. */
  async answerRequest(id: IdentityId, answer: 'accept' | 'decline' | 'block'): Promise<void> {
    if (!this.engine) throw new Error(t('app.notReady'));
    const request = this.requests.find((r) => r.id === id);
    const name = request ? displayName(request) : id.slice(0, 8);
    try {
      if (answer === 'accept') {
        this.upsertContact(await this.engine.acceptRequest(id));
        this.select(id);
        this.toasts.show(t('requests.accepted', { name }));
      } else {
        await (answer === 'block' ? this.engine.blockRequest(id) : this.engine.declineRequest(id));
        this.toasts.show(answer === 'block' ? t('requests.blocked', { name }) : t('requests.declined', { name }));
      }
      this.requests = this.engine.requests();
    } catch (err) {
      this.toasts.error(t('requests.failed', { error: err instanceof Error ? err.message : String(err) }));
    }
  }

  async safetyNumber(contactId: IdentityId): Promise<string> {
    if (!this.engine) throw new Error(t('app.notReady'));
    return this.engine.safetyNumber(contactId);
  }

  async setVerified(contactId: IdentityId, verified: boolean): Promise<void> {
    if (!this.engine) throw new Error(t('app.notReady'));
    this.upsertContact(await this.engine.setVerified(contactId, verified));
  }

  async shutdown(): Promise<void> {
    await this.detach();
  }
}
