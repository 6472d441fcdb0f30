// WebRTC configuration shapes shared by sessions (data channels) and calls (media).
import type SimplePeer from 'simple-peer';

/** An ICE server the user configured (STUN, or TURN with credentials). Never a public default. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The simple-peer constructor (default: the `simple-peer` package; a browser build may pass its bundle). */
export type SimplePeerConstructor = typeof SimplePeer;
