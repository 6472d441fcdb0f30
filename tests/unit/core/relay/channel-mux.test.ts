// ChannelMux's gather-write path: a channel's sendParts hands the pieces to the WebSocket with the channel header
// in front, and tells the caller the pieces are no longer read (onWritten) only from the WebSocket's own send
// callback, once the socket wrote them: lent ciphertext (core/src/session/buffer-lease.ts) is reused only then.
import { describe, expect, it } from 'vitest';
import { ChannelMux } from '../../../../core/src/relay/channel-mux.js';
import type { RelayChannelSocket } from '../../../../core/src/relay/channel.js';
import type { WebSocketLike } from '../../../../core/src/platform/types.js';
import { deferred } from '../../../../core/src/util/deferred.js';

/** A WebSocket that gather-writes and keeps each send's callback for the test to run. */
function fakeSocket() {
  const sent: Array<{ parts: Uint8Array[]; callback: ((error?: Error) => void) | undefined }> = [];
  const ws = {
    binaryType: 'arraybuffer',
    readyState: 1,
    bufferedAmount: 0,
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null,
    send() {},
    sendParts(parts: readonly Uint8Array[], callback?: (error?: Error) => void) {
      sent.push({ parts: [...parts], callback });
    },
    close() {},
  } satisfies WebSocketLike;
  return { ws, sent };
}

async function openChannel(ws: WebSocketLike): Promise<RelayChannelSocket> {
  const mux = new ChannelMux({ onlineSocket: ws, sendJson: () => {} }, { lowWaterBytes: 1024, openTimeoutMs: 1000 });
  const result = deferred<RelayChannelSocket>();
  mux.open('peer', 'tag', result);
  mux.onChannelReady({ type: 'channel-ready', channel: 7, peer: 'peer', tag: 'tag' });
  return result.promise;
}

describe('ChannelMux gather-writes', () => {
  it('runs onWritten only once the WebSocket wrote the pieces, after the channel header', async () => {
    const { ws, sent } = fakeSocket();
    const channel = await openChannel(ws);
    const body = new Uint8Array([1, 2, 3]);
    let written = 0;
    channel.sendParts!([new Uint8Array([9]), body], () => written++);
    expect(sent).toHaveLength(1);
    expect([...sent[0]!.parts[0]!]).toEqual([0, 0, 0, 7]);
    expect(sent[0]!.parts[2]).toBe(body); // not copied
    expect(written).toBe(0);
    sent[0]!.callback!();
    expect(written).toBe(1);
    // Without onWritten the send callback still comes (drain detection), and nothing else runs.
    channel.sendParts!([body]);
    expect(typeof sent[1]!.callback).toBe('function');
    sent[1]!.callback!();
    expect(written).toBe(1);
  });
});
