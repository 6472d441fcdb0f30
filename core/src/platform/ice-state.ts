// ICE state changes of a simple-peer peer, as the connection really is.
// @roamhq/wrtc updates iceConnectionState only after it fires the change event, so the state simple-peer
// passes along can be the previous one (a 'disconnected' reported as 'connected'). Reading the
// connection's own state one microtask later gives the current value in Node and browsers alike.
import type { Instance } from 'simple-peer';

export function onIceState(peer: Instance, listener: (state: string) => void): void {
  peer.on('iceStateChange', (reported: string) => {
    queueMicrotask(() => listener(String(peer._pc?.iceConnectionState ?? reported)));
  });
}
