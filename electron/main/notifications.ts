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
}

/** Notifications kept alive at once; the oldest reference is dropped first. */
export const MAX_LIVE_NOTIFICATIONS = 32;

export function notificationOptions(request: NotificationRequest, icon?: string): NotificationOptionsLike {
  const call = request.kind === 'call';
  return {
    title: request.title,
    body: request.body,
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
    const n = this.deps.create(notificationOptions(request, this.deps.icon));
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
