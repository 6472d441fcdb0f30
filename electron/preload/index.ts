// Preload (sandboxed, bundled to one CommonJS file by build/bundle-preload.mjs): exposes the bridge as
// window.parley. Only functions built in ./bridge.ts cross the context bridge; ipcRenderer itself and
// IPC event objects never do.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createElectronBridge } from './bridge.js';

const bridge = createElectronBridge({
  invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
  on(channel, listener) {
    const wrapped = (_event: IpcRendererEvent, ...args: unknown[]): void => listener(...args);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
});

contextBridge.exposeInMainWorld('parley', bridge);
