// Issue 12.9: the pending-offers limit was checked before an await and the offer recorded after it, so
// 120 offers arriving together (packed into one relay record) all passed and made 120 prompts. The slot
// is now reserved synchronously. Declined offers kept per contact are capped as well.
import { describe, expect, it } from 'vitest';
import { MAX_DECLINED_PER_CONTACT } from '../../../../core/src/transfer/engine.js';
import {
  decodeFrame,
  encodeControl,
  newOfferId,
  TRANSFER_PROTOCOL_VERSION,
} from '../../../../core/src/transfer/protocol.js';
import { createPeer } from './harness.js';
import { memoryLink } from './memory-link.js';

function offer(offerId: string, name: string): Uint8Array {
  return encodeControl({
    t: 'offer',
    v: TRANSFER_PROTOCOL_VERSION,
    offerId,
    round: 1,
    total: 4,
    files: [{ fileId: 0, relativePath: name, size: 4, mime: 'x/y' }],
  });
}

/** Every frame of `frames` delivered to the engine in one turn, as one relay record would. */
function flood(onFrame: (payload: Uint8Array) => void, frames: Uint8Array[]): void {
  for (const f of frames) onFrame(f);
}

describe('a flood of offers from one contact', () => {
  it('120 offers at once make at most 32 prompts; the rest are refused as busy', async () => {
    // The contact check is async (a store lookup): the window the race needed.
    const bob = await createPeer('bob', {
      decide: () => 'ask',
      isKnownContact: async () => true,
      maxPendingPerContact: 32,
    });
    const link = memoryLink();
    let deliver!: (payload: Uint8Array) => void;
    const stream = link.b;
    const originalOnFrame = stream.onFrame.bind(stream);
    stream.onFrame = (handler) => {
      deliver = handler;
      return originalOnFrame(handler);
    };
    bob.engine.attach('mallory', stream);
    const prompts: string[] = [];
    bob.engine.on('offer', (o) => prompts.push(o.offerId));
    const busy: string[] = [];
    link.a.onFrame((frame) => {
      const d = decodeFrame(frame);
      if (d.kind === 'control' && d.message.t === 'decline' && d.message.code === 'busy') busy.push(d.message.offerId);
    });
    flood(
      deliver,
      Array.from({ length: 120 }, (_, i) => offer(newOfferId(), `f${i}.bin`)),
    );
    // Every offer is answered: a prompt or a refusal.
    await expect.poll(() => prompts.length + busy.length).toBe(120);
    expect(prompts).toHaveLength(32);
    expect(busy).toHaveLength(88);
    expect(bob.engine.list().filter((t) => t.state === 'pending')).toHaveLength(32);
  });

  it('keeps only the newest declined offers of a contact', async () => {
    const bob = await createPeer('bob', { decide: () => 'decline' });
    const link = memoryLink();
    bob.engine.attach('mallory', link.b);
    let replies = 0;
    link.a.onFrame(() => void replies++);
    const n = MAX_DECLINED_PER_CONTACT + 20;
    for (let i = 0; i < n; i++) {
      await link.a.send(offer(newOfferId(), `d${i}.bin`));
      await expect.poll(() => replies, { interval: 2 }).toBe(i + 1);
    }
    await bob.engine.idle();
    const states = bob.engine.list().map((t) => t.state);
    expect(
      states.filter((s) => s === 'declined'),
      states.join(','),
    ).toHaveLength(MAX_DECLINED_PER_CONTACT);
    const stored = [...bob.kv.data.keys()].filter((k) => !k.includes('/f/'));
    expect(stored.length).toBeLessThanOrEqual(MAX_DECLINED_PER_CONTACT);
  });
});
