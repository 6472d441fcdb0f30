// The browser implementation of the one native bridge. The Electron preload implements the same
// interface (electron/preload), so the UI cannot tell them apart except by `platform`.
import type { BridgeNotification, BridgeTrayState, ParleyBridge } from '../../../core/src/bridge.js';
import { safeExternalUrl } from '../lib/links.js';
import { inviteFromUrl, withoutInvite } from './deep-link.js';

type Listener<T> = (value: T) => void;

export class WebBridge implements ParleyBridge {
  readonly platform = 'web' as const;
  private readonly deepLinkListeners = new Set<Listener<string>>();
  private readonly clickListeners = new Set<Listener<string | undefined>>();
  private readonly downloadsListeners = new Set<() => void>();
  private readonly baseTitle: string;

  constructor(private readonly win: Window = window) {
    this.baseTitle = win.document.title || 'Parley';
    win.addEventListener('hashchange', () => this.takeInviteFromUrl());
  }

  async embeddedRelayUrl(): Promise<string | null> {
    return null;
  }

  async notify(n: BridgeNotification): Promise<void> {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    // Only when the user is not looking at the app; in-app UI shows the rest.
    if (this.win.document.visibilityState === 'visible' && this.win.document.hasFocus()) return;
    const notification = new Notification(n.title, {
      body: n.body,
      tag: n.contactId ? `${n.kind}:${n.contactId}` : n.kind,
    });
    notification.onclick = () => {
      this.win.focus();
      notification.close();
      for (const l of this.clickListeners) l(n.contactId);
    };
  }

  /** No tray on the web: the unread count goes into the tab title instead. */
  setTrayState(state: BridgeTrayState): void {
    this.win.document.title = state.unread > 0 ? `(${state.unread}) ${this.baseTitle}` : this.baseTitle;
  }

  onDeepLink(listener: (url: string) => void): () => void {
    this.deepLinkListeners.add(listener);
    // An invite in the URL that opened the page is delivered to the first subscriber.
    queueMicrotask(() => this.takeInviteFromUrl());
    return () => this.deepLinkListeners.delete(listener);
  }

  onNotificationClick(listener: (contactId: string | undefined) => void): () => void {
    this.clickListeners.add(listener);
    return () => this.clickListeners.delete(listener);
  }

  /** Web-only: the UI shows its downloads panel (files kept in the origin-private file system). */
  onShowDownloads(listener: () => void): () => void {
    this.downloadsListeners.add(listener);
    return () => this.downloadsListeners.delete(listener);
  }

  async openDownloads(): Promise<void> {
    for (const l of this.downloadsListeners) l();
  }

  async openExternal(url: string): Promise<void> {
    const safe = safeExternalUrl(url);
    if (!safe) throw new Error('only https links can be opened');
    this.win.open(safe, '_blank', 'noopener,noreferrer');
  }

  /** Notification permission must be asked from a click; the settings toggle calls this. */
  async requestNotificationPermission(): Promise<boolean> {
    if (typeof Notification === 'undefined') return false;
    if (Notification.permission === 'granted') return true;
    if (Notification.permission === 'denied') return false;
    return (await Notification.requestPermission()) === 'granted';
  }

  private takeInviteFromUrl(): void {
    if (this.deepLinkListeners.size === 0) return;
    const href = this.win.location.href;
    const invite = inviteFromUrl(href);
    if (!invite) return;
    this.win.history.replaceState(null, '', withoutInvite(href));
    for (const l of this.deepLinkListeners) l(invite);
  }
}
