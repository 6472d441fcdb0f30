import { describe, expect, it } from 'vitest';
import { appMenuTemplate } from '../../../electron/main/app-menu.js';
import { MAX_LIVE_NOTIFICATIONS, NotificationCenter, notificationOptions, type NotificationLike, type NotificationOptionsLike } from '../../../electron/main/notifications.js';

class FakeNotification implements NotificationLike {
  shown = false;
  readonly handlers = new Map<string, () => void>();
  constructor(readonly options: NotificationOptionsLike) {}
  on(event: string, l: () => void): this {
    this.handlers.set(event, l);
    return this;
  }
  show(): void {
    this.shown = true;
  }
}

function center(supported = true) {
  const created: FakeNotification[] = [];
  const clicks: (string | undefined)[] = [];
  const c = new NotificationCenter({
    isSupported: () => supported,
    create: (o) => {
      const n = new FakeNotification(o);
      created.push(n);
      return n;
    },
    onClick: (id) => clicks.push(id),
    icon: '/icons/512.png',
  });
  return { c, created, clicks };
}

describe('notifications', () => {
  it('shows messages, files and calls; calls stay until handled', () => {
    expect(notificationOptions({ kind: 'message', title: 'Ada', body: 'hi' })).toEqual({ title: 'Ada', body: 'hi', silent: false, urgency: 'normal', timeoutType: 'default' });
    expect(notificationOptions({ kind: 'call', title: 'Ada', body: 'Video call' }, '/i.png')).toMatchObject({ urgency: 'critical', timeoutType: 'never', icon: '/i.png' });
  });

  it('a click reports the contact and releases the notification', () => {
    const { c, created, clicks } = center();
    c.show({ kind: 'message', title: 'Ada', body: 'hi', contactId: 'A'.repeat(43) });
    c.show({ kind: 'file', title: 'Bob', body: 'sent a file' });
    expect(created.every((n) => n.shown)).toBe(true);
    expect(c.liveCount).toBe(2);
    created[0]!.handlers.get('click')!();
    created[1]!.handlers.get('click')!();
    expect(clicks).toEqual(['A'.repeat(43), undefined]);
    expect(c.liveCount).toBe(0);
  });

  it('keeps a bounded number alive and releases closed ones', () => {
    const { c, created } = center();
    for (let i = 0; i < MAX_LIVE_NOTIFICATIONS + 10; i++) c.show({ kind: 'message', title: `m${i}`, body: '' });
    expect(c.liveCount).toBe(MAX_LIVE_NOTIFICATIONS);
    created.at(-1)!.handlers.get('close')!();
    expect(c.liveCount).toBe(MAX_LIVE_NOTIFICATIONS - 1);
  });

  it('does nothing where notifications are unsupported', () => {
    const { c, created } = center(false);
    c.show({ kind: 'message', title: 'x', body: 'y' });
    expect(created).toHaveLength(0);
  });
});

describe('application menu', () => {
  it('macOS gets the standard app/edit/window menus (for Cmd+C/V); others get none', () => {
    expect(appMenuTemplate('darwin')?.map((i) => i.role)).toEqual(['appMenu', 'editMenu', 'windowMenu']);
    expect(appMenuTemplate('linux')).toBeNull();
    expect(appMenuTemplate('win32')).toBeNull();
  });
});
