// Why a relay connection failed, in words. A WebSocket that never opens ends with close code 1006 and
// no reason, which told people nothing ("connection closed (1006)") when they had typed the address of
// a web server, a wrong port, or wss:// for a plain relay. `ws` knows the cause (the HTTP status the
// server answered with, ECONNREFUSED, a TLS failure): this wraps the Node factory so that cause becomes
// the close reason core reports in its relay state.
import WebSocket from 'ws';
import type { WebSocketFactory, WebSocketLike } from '../../core/src/platform/types.js';
import { nodeWebSocketFactory } from '../../platform/node/src/websocket.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Found',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A readable cause for a WebSocket that failed before opening. */
export function describeConnectError(err: Error & { code?: string }, url: string): string {
  const where = /^wss?:\/\/([^/?#]+)/i.exec(url)?.[1] ?? url;
  const status = /Unexpected server response: (\d+)/.exec(err.message);
  if (status) {
    const n = Number(status[1]);
    return `${where} answered HTTP ${n}${STATUS_TEXT[n] ? ` ${STATUS_TEXT[n]}` : ''} instead of the relay protocol: a web server is there, but ${url} is not a Parley relay (check the address; a relay serves /ws)`;
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${where} (connection refused)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the relay host in ${where}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${err.code})`;
    case 'ECONNRESET':
      return `${where} reset the connection`;
  }
  if (/wrong version number|packet length too long|EPROTO/i.test(`${err.code ?? ''} ${err.message}`)) {
    return `TLS with ${where} failed: the server does not speak TLS there (try ws:// instead of wss://)`;
  }
  if (/Invalid WebSocket frame|invalid status line|Parse Error/i.test(err.message)) {
    return `${where} does not speak HTTP/WebSocket: it is not a Parley relay`;
  }
  return err.message;
}

const oncloseOf = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onclose');

/** nodeWebSocketFactory, with the cause of a failed connection as the reason of its 1006 close. */
export function diagnosingWebSocketFactory(inner: WebSocketFactory = nodeWebSocketFactory): WebSocketFactory {
  return (url: string): WebSocketLike => {
    const like = inner(url);
    const ws = like as unknown as WebSocket;
    if (!(ws instanceof WebSocket) || !oncloseOf?.get || !oncloseOf.set) return like;
    let cause: string | null = null;
    // An extra listener: core's onerror stays as it is.
    ws.on('error', (err: Error & { code?: string }) => {
      if (ws.readyState !== WebSocket.OPEN) cause ??= describeConnectError(err, url);
    });
    let handler: WebSocketLike['onclose'] = null;
    Object.defineProperty(ws, 'onclose', {
      configurable: true,
      get: () => handler,
      set: (h: WebSocketLike['onclose']) => {
        handler = h;
        oncloseOf.set!.call(
          ws,
          h === null
            ? null
            : (ev: { code: number; reason: string }) =>
                h(cause !== null && ev.code === 1006 && !ev.reason ? { code: ev.code, reason: cause } : ev),
        );
      },
    });
    return like;
  };
}

/** A relay state error for people: the cause alone when core wrapped it as "connection closed (1006: cause)". */
export function relayProblem(error: string): string {
  const m = /^connection closed \(1006: (.*)\)$/s.exec(error);
  return m ? m[1]! : error;
}
