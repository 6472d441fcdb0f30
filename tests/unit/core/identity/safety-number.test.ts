import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url, type PublicIdentityKey } from '../../../../signaling/protocol/index.js';
import {
  SAFETY_NUMBER_ITERATIONS,
  generateIdentityKeyPair,
  safetyNumber,
  safetyNumbersMatch,
} from '../../../../core/src/identity/index.js';

/** Independent implementation of the documented construction, with node:crypto. */
function referenceHalf(key: PublicIdentityKey): string {
  const raw = fromBase64url(key.pub);
  let h = createHash('sha256')
    .update('parley-safety-number/v1')
    .update(Buffer.from([0]))
    .update(key.alg)
    .update(Buffer.from([0]))
    .update(raw)
    .digest();
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) h = createHash('sha256').update(h).update(raw).digest();
  let out = '';
  for (let c = 0; c < 6; c++) out += String(h.readUIntBE(c * 5, 5) % 100000).padStart(5, '0');
  return out;
}

let a: PublicIdentityKey;
let b: PublicIdentityKey;
let c: PublicIdentityKey;
beforeAll(async () => {
  a = (await generateIdentityKeyPair({ extractable: false })).publicKey;
  b = (await generateIdentityKeyPair({ extractable: false, algorithm: 'P-256' })).publicKey;
  c = (await generateIdentityKeyPair({ extractable: false })).publicKey;
});

describe('safetyNumber', () => {
  it('is 60 digits in 12 groups of 5, the same for both people, and repeatable', async () => {
    const ab = await safetyNumber(a, b);
    expect(ab).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(await safetyNumber(b, a)).toBe(ab);
    expect(await safetyNumber(a, b)).toBe(ab);
  });

  it('changes when either key changes', async () => {
    const ab = await safetyNumber(a, b);
    const cb = await safetyNumber(c, b);
    const ac = await safetyNumber(a, c);
    expect(cb).not.toBe(ab);
    expect(ac).not.toBe(ab);
    // Only the half of the changed key differs.
    const halves = (s: string) => [s.replace(/ /g, '').slice(0, 30), s.replace(/ /g, '').slice(30)];
    expect(halves(ab).filter((h) => halves(cb).includes(h))).toHaveLength(1);
  });

  it('binds the algorithm: the same bytes under another algorithm name give another number', async () => {
    // A real P-256 point (keys off the curve are refused), and its first 32 bytes read as an Ed25519 key.
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const p: PublicIdentityKey = { alg: 'P-256', pub: toBase64url(raw) };
    const ed: PublicIdentityKey = { alg: 'Ed25519', pub: toBase64url(raw.subarray(0, 32)) };
    expect(await safetyNumber(p, a)).not.toBe(await safetyNumber(ed, a));
  });

  it('matches an independent implementation of the documented construction', async () => {
    const [x, y] = [referenceHalf(a), referenceHalf(b)].sort();
    expect((await safetyNumber(a, b)).replace(/ /g, '')).toBe(x! + y!);
  });

  it('is stable across versions (fixed vector)', async () => {
    const k1: PublicIdentityKey = { alg: 'Ed25519', pub: toBase64url(new Uint8Array(32).map((_, i) => i)) };
    const k2: PublicIdentityKey = { alg: 'Ed25519', pub: toBase64url(new Uint8Array(32).map((_, i) => 255 - i)) };
    const [x, y] = [referenceHalf(k1), referenceHalf(k2)].sort();
    const expected = (x! + y!).match(/\d{5}/g)!.join(' ');
    expect(await safetyNumber(k1, k2)).toBe(expected);
    expect(await safetyNumber(k1, k2)).toBe(FIXED_VECTOR);
  });

  it('safetyNumbersMatch ignores spacing but nothing else', async () => {
    const ab = await safetyNumber(a, b);
    expect(safetyNumbersMatch(ab, ab.replace(/ /g, ''))).toBe(true);
    expect(safetyNumbersMatch(ab, ab.replace(/ /g, '\n'))).toBe(true);
    const wrong = (ab[0] === '9' ? '0' : String(Number(ab[0]) + 1)) + ab.slice(1);
    expect(safetyNumbersMatch(ab, wrong)).toBe(false);
    expect(safetyNumbersMatch(ab, ab.slice(0, -1))).toBe(false);
    expect(safetyNumbersMatch('', '')).toBe(false);
  });
});

// Recorded from the first implementation; a change here means peers on different versions disagree.
const FIXED_VECTOR = '63844 38014 95851 82305 67636 70854 91717 00614 46897 56756 62522 27164';
