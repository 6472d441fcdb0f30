// The tray icon's model: which icon, tooltip and menu a presence/unread state shows. Pure; the
// composition root turns it into a Tray and a Menu.

export type Presence = 'online' | 'connecting' | 'offline';

export interface TrayState {
  presence: Presence;
  unread: number;
}

export type TrayAction = 'show' | 'open-downloads' | 'toggle-lan-relay' | 'quit';

export type TrayMenuItem =
  | { type: 'normal'; label: string; action: TrayAction; enabled?: boolean }
  | { type: 'checkbox'; label: string; action: TrayAction; checked: boolean }
  | { type: 'label'; label: string }
  | { type: 'separator' };

export interface TrayModel {
  /** File name (without @2x suffix) under build/icons/tray/. */
  icon: string;
  tooltip: string;
  /** macOS shows this text next to the icon; empty hides it. */
  title: string;
  /** Dock / launcher badge count. */
  badgeCount: number;
  menu: TrayMenuItem[];
}

export const INITIAL_TRAY_STATE: Readonly<TrayState> = Object.freeze({ presence: 'connecting', unread: 0 });

const PRESENCE_LABEL: Record<Presence, string> = { online: 'Online', connecting: 'Connecting…', offline: 'Offline' };

export function formatUnread(unread: number): string {
  return unread > 99 ? '99+' : String(unread);
}

export interface TrayContext {
  /** Whether the embedded relay is open to the local network. */
  lanRelay: boolean;
  /** URL contacts use to reach this machine's relay, if it runs. */
  relayUrl: string | null;
}

export function trayModel(state: TrayState, context: TrayContext): TrayModel {
  const unread = Number.isFinite(state.unread) ? Math.max(0, Math.floor(state.unread)) : 0;
  const presenceLabel = PRESENCE_LABEL[state.presence];
  const unreadText =
    unread === 0 ? 'no unread messages' : `${formatUnread(unread)} unread ${unread === 1 ? 'message' : 'messages'}`;
  const menu: TrayMenuItem[] = [
    { type: 'normal', label: 'Show Parley', action: 'show' },
    { type: 'label', label: `Status: ${presenceLabel}` },
  ];
  if (unread > 0) menu.push({ type: 'label', label: `Unread: ${formatUnread(unread)}` });
  menu.push(
    { type: 'separator' },
    { type: 'normal', label: 'Open downloads folder', action: 'open-downloads' },
    {
      type: 'checkbox',
      label: 'Let contacts on my network use my relay',
      action: 'toggle-lan-relay',
      checked: context.lanRelay,
    },
  );
  if (context.relayUrl !== null) menu.push({ type: 'label', label: `Relay: ${context.relayUrl}` });
  menu.push({ type: 'separator' }, { type: 'normal', label: 'Quit Parley', action: 'quit' });
  return {
    icon: `tray-${state.presence}${unread > 0 ? '-unread' : ''}`,
    tooltip: `Parley — ${presenceLabel}, ${unreadText}`,
    title: unread > 0 ? formatUnread(unread) : '',
    badgeCount: unread,
    menu,
  };
}

/** Every icon name trayModel can return, so packaging and tests can check the files exist. */
export function allTrayIconNames(): string[] {
  const names: string[] = [];
  for (const p of ['online', 'connecting', 'offline'] as const) names.push(`tray-${p}`, `tray-${p}-unread`);
  return names;
}
