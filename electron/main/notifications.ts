// Desktop notifications for messages, calls and files. The Electron Notification class is injected.
// Shown notifications are kept referenced until closed or clicked: a garbage-collected Notification
// loses its click handler, and a click must focus the chat it is about.
import type { NotificationRequest } from './bridge-ipc.js';

export interface NotificationLike {
  on(event: 'click' | 'close' | 'failed', listener: () => void): unknown;
  show(): void;
}

export interface NotificationOptionsLike {
  title: string;
  body: string;
  silent: boolean;
  urgency?: 'normal' | 'critical' | 'low';
  timeoutType?: 'default' | 'never';
  icon?: string;
}

export interface NotificationCenterDeps {
  isSupported(): boolean;
  create(options: NotificationOptionsLike): NotificationLike;
  /** A notification was clicked: focus the window and tell the renderer which contact. */
  onClick(contactId: string | undefined): void;
  icon?: string;
  /** Whether the system parses the body as markup: see bodyIsMarkup(). */
  markupBody: boolean;
}

/** Notifications kept alive at once; the oldest reference is dropped first. */
export const MAX_LIVE_NOTIFICATIONS = 32;

/**
 * On Linux Electron hands the body to libnotify as is, and notification servers that announce
 * `body-markup` (GNOME, KDE, dunst, mako…) parse it as a subset of XML: a contact's `<a href=…>` or `<img>`
 * would render. macOS and Windows show the body as plain text, where escaping would show `&amp;`
 * literally, so escaping is done only where the body is markup. The summary (title) is plain text in the
 * freedesktop specification and is left alone.
 */
export function bodyIsMarkup(platform: NodeJS.Platform): boolean {
  return platform !== 'darwin' && platform !== 'win32';
}

/** `&`, `<` and `>` as entities: all the freedesktop body markup needs to show text as text. */
export function escapeNotificationMarkup(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

export function notificationOptions(
  request: NotificationRequest,
  icon?: string,
  markupBody = false,
): NotificationOptionsLike {
  const call = request.kind === 'call';
  return {
    title: request.title,
    body: markupBody ? escapeNotificationMarkup(request.body) : request.body,
    silent: false,
    // A ringing call should stay until answered; messages and files come and go.
    urgency: call ? 'critical' : 'normal',
    timeoutType: call ? 'never' : 'default',
    ...(icon ? { icon } : {}),
  };
}

export class NotificationCenter {
  private readonly live = new Set<NotificationLike>();

  constructor(private readonly deps: NotificationCenterDeps) {}

  get liveCount(): number {
    return this.live.size;
  }

  show(request: NotificationRequest): void {
    if (!this.deps.isSupported()) return;
    const n = this.deps.create(notificationOptions(request, this.deps.icon, this.deps.markupBody));
    const release = (): void => {
      this.live.delete(n);
    };
    n.on('click', () => {
      release();
      this.deps.onClick(request.contactId);
    });
    n.on('close', release);
    n.on('failed', release);
    this.live.add(n);
    if (this.live.size > MAX_LIVE_NOTIFICATIONS) {
      const oldest = this.live.values().next().value;
      if (oldest) this.live.delete(oldest);
    }
    n.show();
  }
}
