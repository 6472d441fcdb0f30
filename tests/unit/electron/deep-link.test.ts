import { describe, expect, it } from 'vitest';
import {
  DeepLinkQueue,
  extractDeepLinks,
  MAX_DEEP_LINK_LENGTH,
  MAX_PENDING_DEEP_LINKS,
  parseDeepLink,
} from '../../../electron/main/deep-link.js';
import { setupSingleInstance, type SingleInstanceApp } from '../../../electron/main/single-instance.js';

describe('parseDeepLink', () => {
  it('accepts parley: links and normalizes the scheme case', () => {
    expect(parseDeepLink('parley:invite?k=abc&n=Ada#r=ws%3A%2F%2F10.0.0.2%3A47913%2Fws')).toBe(
      'parley:invite?k=abc&n=Ada#r=ws%3A%2F%2F10.0.0.2%3A47913%2Fws',
    );
    expect(parseDeepLink('PARLEY:invite?k=1')).toBe('parley:invite?k=1');
    expect(parseDeepLink('parley://invite/abc')).toBe('parley://invite/abc');
  });

  for (const bad of [
    'https://example.com/',
    'javascript:alert(1)',
    'parleyx:invite',
    'xparley:invite',
    'parley:',
    'parley:invite with space',
    'parley:invite\nInjected: header',
    'parley:in\u0000vite',
    'parley://user:pw@host/x',
    ` parley:invite`,
    `parley:${'a'.repeat(MAX_DEEP_LINK_LENGTH)}`,
    '',
    42,
    null,
  ]) {
    it(`refuses ${JSON.stringify(bad)?.slice(0, 50)}`, () => expect(parseDeepLink(bad)).toBeNull());
  }

  it('finds links among other arguments, once each', () => {
    const argv = [
      '/opt/Parley/parley',
      '--no-sandbox',
      'parley:invite?k=1',
      '--flag=parley:x y',
      'parley:invite?k=1',
      'parley:invite?k=2',
    ];
    expect(extractDeepLinks(argv)).toEqual(['parley:invite?k=1', 'parley:invite?k=2']);
    expect(extractDeepLinks([])).toEqual([]);
  });
});

describe('DeepLinkQueue', () => {
  it('queues until taken, then delivers live; a reset queues again', () => {
    const delivered: string[] = [];
    const q = new DeepLinkQueue((u) => delivered.push(u));
    q.push('parley:a');
    q.push('parley:a');
    q.push('parley:b');
    expect(delivered).toEqual([]);
    expect(q.take()).toEqual(['parley:a', 'parley:b']);
    q.push('parley:c');
    expect(delivered).toEqual(['parley:c']);
    q.reset();
    q.push('parley:d');
    expect(delivered).toEqual(['parley:c']);
    expect(q.take()).toEqual(['parley:d']);
  });

  it('bounds what it keeps, dropping the oldest', () => {
    const q = new DeepLinkQueue(() => {});
    for (let i = 0; i < MAX_PENDING_DEEP_LINKS + 5; i++) q.push(`parley:${i}`);
    const kept = q.take();
    expect(kept).toHaveLength(MAX_PENDING_DEEP_LINKS);
    expect(kept[0]).toBe('parley:5');
  });
});

class FakeApp implements SingleInstanceApp {
  quits = 0;
  readonly listeners = new Map<string, (...args: never[]) => void>();
  constructor(private readonly lock: boolean) {}
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  quit(): void {
    this.quits++;
  }
  on(event: string, listener: (...args: never[]) => void): this {
    this.listeners.set(event, listener);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    (this.listeners.get(event) as ((...a: unknown[]) => void) | undefined)?.(...args);
  }
}

describe('single instance', () => {
  it('a second instance quits without wiring anything', () => {
    const app = new FakeApp(false);
    const links: string[] = [];
    expect(
      setupSingleInstance(app, ['parley', 'parley:invite?k=1'], { focus: () => {}, onDeepLink: (u) => links.push(u) }),
    ).toBe(false);
    expect(app.quits).toBe(1);
    expect(app.listeners.size).toBe(0);
    expect(links).toEqual([]);
  });

  it('the first instance takes its own launch link, focuses on a second launch and forwards its link', () => {
    const app = new FakeApp(true);
    const links: string[] = [];
    let focused = 0;
    expect(
      setupSingleInstance(app, ['parley', 'parley:launch'], {
        focus: () => focused++,
        onDeepLink: (u) => links.push(u),
      }),
    ).toBe(true);
    expect(links).toEqual(['parley:launch']);
    app.emit('second-instance', {}, ['parley', '--x', 'parley:second', 'javascript:alert(1)'], '/home');
    expect(focused).toBe(1);
    expect(links).toEqual(['parley:launch', 'parley:second']);
    app.emit('second-instance', {}, 'not-an-array', '/');
    expect(focused).toBe(2);
  });

  it('macOS open-url: validated, default prevented, bad links reported', () => {
    const app = new FakeApp(true);
    const links: string[] = [];
    const rejected: string[] = [];
    setupSingleInstance(app, [], {
      focus: () => {},
      onDeepLink: (u) => links.push(u),
      onRejectedLink: (r) => rejected.push(r),
    });
    let prevented = 0;
    const event = { preventDefault: () => prevented++ };
    app.emit('open-url', event, 'parley:invite?k=9');
    app.emit('open-url', event, 'file:///etc/passwd');
    expect(prevented).toBe(2);
    expect(links).toEqual(['parley:invite?k=9']);
    expect(rejected).toHaveLength(1);
  });
});
