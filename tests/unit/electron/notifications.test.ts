import { describe, expect, it } from 'vitest';
import { appMenuTemplate } from '../../../electron/main/app-menu.js';
import {
  bodyIsMarkup,
  escapeNotificationMarkup,
  MAX_LIVE_NOTIFICATIONS,
  NotificationCenter,
  notificationOptions,
  type NotificationLike,
  type NotificationOptionsLike,
} from '../../../electron/main/notifications.js';

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

function center(supported = true, markupBody = false) {
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
    markupBody,
  });
  return { c, created, clicks };
}

describe('notifications', () => {
  it('shows messages, files and calls; calls stay until handled', () => {
    expect(notificationOptions({ kind: 'message', title: 'Ada', body: 'hi' })).toEqual({
      title: 'Ada',
      body: 'hi',
      silent: false,
      urgency: 'normal',
      timeoutType: 'default',
    });
    expect(notificationOptions({ kind: 'call', title: 'Ada', body: 'Video call' }, '/i.png')).toMatchObject({
      urgency: 'critical',
      timeoutType: 'never',
      icon: '/i.png',
    });
  });

  it('on Linux a contact cannot put markup into the body (libnotify parses it); the text stays readable', () => {
    const hostile = 'see <a href="https://evil.example">here</a> & <img src="file:///etc/passwd"/> <b>now</b>';
    const { c, created } = center(true, bodyIsMarkup('linux'));
    c.show({ kind: 'message', title: 'Mallory <b>', body: hostile });
    const body = created[0]!.options.body;
    expect(body).not.toMatch(/[<>]/);
    expect(body).toBe(
      'see &lt;a href="https://evil.example"&gt;here&lt;/a&gt; &amp; &lt;img src="file:///etc/passwd"/&gt; &lt;b&gt;now&lt;/b&gt;',
    );
    // Entities the contact typed are shown as typed, not decoded: `&amp;` becomes `&amp;amp;`.
    expect(escapeNotificationMarkup('&amp; &lt;')).toBe('&amp;amp; &amp;lt;');
    // The summary is plain text in the freedesktop specification.
    expect(created[0]!.options.title).toBe('Mallory <b>');
  });

  it('macOS and Windows show the body as plain text, so it is passed unchanged there', () => {
    expect(bodyIsMarkup('darwin')).toBe(false);
    expect(bodyIsMarkup('win32')).toBe(false);
    expect(bodyIsMarkup('linux')).toBe(true);
    expect(bodyIsMarkup('freebsd')).toBe(true);
    const { c, created } = center(true, bodyIsMarkup('darwin'));
    c.show({ kind: 'message', title: 'Ada', body: 'a < b & c > d' });
    expect(created[0]!.options.body).toBe('a < b & c > d');
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
