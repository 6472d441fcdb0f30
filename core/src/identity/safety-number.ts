// Safety numbers, after Signal's numeric fingerprint: each key yields 30 digits from an iterated
// SHA-256 (the iterations make grinding for a look-alike key costlier); the two halves are sorted
// so both people see the same 60 digits, shown as 12 groups of 5.
import { rawPublicKey, type PublicIdentityKey } from '../../../signaling/protocol/index.js';
import { sha256 } from '../crypto/encoding.js';
import { concatBytes } from '../util/bytes.js';

export const SAFETY_NUMBER_ITERATIONS = 5200;
const LABEL = new TextEncoder().encode('parley-safety-number/v1');

async function halfOf(key: PublicIdentityKey, iterations: number): Promise<string> {
  const raw = rawPublicKey(key);
  const seed = await sha256(
    concatBytes([LABEL, new Uint8Array([0]), new TextEncoder().encode(key.alg), new Uint8Array([0]), raw]),
  );
  // One buffer [hash || raw key], rehashed in place.
  const buf = concatBytes([seed, raw]);
  for (let i = 0; i < iterations; i++) buf.set(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)), 0);
  let digits = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0;
    for (let b = 0; b < 5; b++) n = n * 256 + buf[chunk * 5 + b]!;
    digits += String(n % 100000).padStart(5, '0');
  }
  return digits;
}

/** 60 digits in 12 space-separated groups of 5; the same whichever key is passed first. */
export async function safetyNumber(a: PublicIdentityKey, b: PublicIdentityKey): Promise<string> {
  const [ha, hb] = await Promise.all([halfOf(a, SAFETY_NUMBER_ITERATIONS), halfOf(b, SAFETY_NUMBER_ITERATIONS)]);
  const digits = ha < hb ? ha + hb : hb + ha;
  return digits.match(/\d{5}/g)!.join(' ');
}

/** Compares a safety number typed or scanned by a person, ignoring spaces and line breaks. */
export function safetyNumbersMatch(expected: string, entered: string): boolean {
  const strip = (s: string) => s.replace(/[\s-]+/g, '');
  const a = strip(expected);
  const b = strip(entered);
  return /^\d{60}$/.test(a) && a === b;
}
