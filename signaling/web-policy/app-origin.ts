// The desktop app's one origin, app://parley. The relay accepts WebSockets from it (the desktop renderer
// connects from there) and Electron compares everything it trusts against it.
export const APP_SCHEME = 'app';
export const APP_HOST = 'parley';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
