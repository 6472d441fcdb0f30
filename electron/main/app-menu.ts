// The application menu. macOS needs one for the standard editing shortcuts (Cmd+C/V/X/A/Z) to work in
// text fields; Windows and Linux get none, so no menu bar and no stray "Toggle DevTools" entry.
import type { MenuItemConstructorOptions } from 'electron';

export function appMenuTemplate(platform: NodeJS.Platform): MenuItemConstructorOptions[] | null {
  if (platform !== 'darwin') return null;
  return [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }];
}
