// The relay's modules meet at a small peer interface (signaling/server/peer.ts): Presence and Channels each keep
// their own slot on a connection and import neither Connection, the relay context, nor each other; the context
// names module types without importing the connection. This test reads the imports, so a new edge fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVER = join(import.meta.dirname, '../../../signaling/server');

/** The relative modules a file imports (types included), as paths under signaling/server. */
function importsOf(file: string): string[] {
  const source = readFileSync(join(SERVER, file), 'utf8');
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from '(\.[^']+)';/gms)].map(([, spec]) => {
    const parts = (dir + spec!.replace(/\.js$/, '.ts')).split('/');
    const out: string[] = [];
    for (const p of parts) {
      if (p === '..') out.pop();
      else if (p !== '.') out.push(p);
    }
    return out.join('/');
  });
}

describe('signaling/server module graph', () => {
  it.each([
    ['presence.ts', ['connection.ts', 'context.ts', 'channels.ts', 'signals.ts', 'mailbox.ts']],
    ['channels.ts', ['connection.ts', 'context.ts', 'presence.ts', 'signals.ts', 'watch-grants.ts']],
    ['signals.ts', ['connection.ts', 'context.ts', 'presence.ts', 'channels.ts']],
    ['context.ts', ['connection.ts', 'mailbox.ts', 'signals.ts', 'watch-grants.ts']],
    ['peer.ts', ['connection.ts', 'context.ts', 'presence.ts', 'channels.ts', 'signals.ts']],
    ['cluster/hooks.ts', ['connection.ts', 'context.ts', 'presence.ts', 'mailbox.ts']],
    ['cluster/index.ts', ['connection.ts']],
    ['cluster/remote-channels.ts', ['connection.ts']],
  ])('%s imports none of %j', (file, forbidden) => {
    const imports = importsOf(file);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => forbidden.includes(i))).toEqual([]);
  });

  it('reads imports correctly (a known edge is found)', () => {
    expect(importsOf('connection.ts')).toEqual(expect.arrayContaining(['context.ts', 'peer.ts', 'presence.ts']));
    expect(importsOf('cluster/hooks.ts')).toEqual(expect.arrayContaining(['peer.ts', 'mail-store.ts']));
  });
});
