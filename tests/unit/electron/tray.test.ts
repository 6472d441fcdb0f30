import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allTrayIconNames, formatUnread, INITIAL_TRAY_STATE, trayModel } from '../../../electron/main/tray.js';

const root = join(import.meta.dirname, '..', '..', '..');
const ctx = { lanRelay: false, relayUrl: 'ws://127.0.0.1:47913/ws' };

describe('tray model', () => {
  it('starts connecting with nothing unread', () => {
    const m = trayModel(INITIAL_TRAY_STATE, ctx);
    expect(m).toMatchObject({
      icon: 'tray-connecting',
      title: '',
      badgeCount: 0,
      tooltip: 'Parley — Connecting…, no unread messages',
    });
  });

  it('shows presence and unread in icon, tooltip, title, badge and menu', () => {
    const m = trayModel({ presence: 'online', unread: 3 }, ctx);
    expect(m.icon).toBe('tray-online-unread');
    expect(m.tooltip).toBe('Parley — Online, 3 unread messages');
    expect(m.title).toBe('3');
    expect(m.badgeCount).toBe(3);
    expect(m.menu).toContainEqual({ type: 'label', label: 'Status: Online' });
    expect(m.menu).toContainEqual({ type: 'label', label: 'Unread: 3' });
    expect(trayModel({ presence: 'offline', unread: 1 }, ctx).tooltip).toBe('Parley — Offline, 1 unread message');
  });

  it('caps the displayed count and sanitizes odd numbers', () => {
    expect(formatUnread(100)).toBe('99+');
    expect(trayModel({ presence: 'online', unread: 12345 }, ctx).title).toBe('99+');
    expect(trayModel({ presence: 'online', unread: Number.NaN }, ctx).badgeCount).toBe(0);
    expect(trayModel({ presence: 'online', unread: -4 }, ctx).icon).toBe('tray-online');
  });

  it('offers show, downloads, the LAN relay toggle with its state, and quit', () => {
    const off = trayModel({ presence: 'online', unread: 0 }, ctx).menu;
    const actions = off.flatMap((i) => ('action' in i ? [i.action] : []));
    expect(actions).toEqual(['show', 'open-downloads', 'toggle-lan-relay', 'quit']);
    expect(off.find((i) => i.type === 'checkbox')).toMatchObject({ checked: false });
    expect(off).toContainEqual({ type: 'label', label: 'Relay: ws://127.0.0.1:47913/ws' });
    const on = trayModel({ presence: 'online', unread: 0 }, { lanRelay: true, relayUrl: null }).menu;
    expect(on.find((i) => i.type === 'checkbox')).toMatchObject({ checked: true });
    expect(on.some((i) => i.type === 'label' && i.label.startsWith('Relay:'))).toBe(false);
  });

  it('has a 16 px and a 32 px (@2x) PNG for every icon it can name', () => {
    for (const name of allTrayIconNames()) {
      for (const [suffix, size] of [
        ['', 16],
        ['@2x', 32],
      ] as const) {
        const file = join(root, 'build', 'icons', 'tray', `${name}${suffix}.png`);
        expect(existsSync(file), file).toBe(true);
        const png = readFileSync(file);
        expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
      }
    }
  });
});
