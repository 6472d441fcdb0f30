// TURN over TLS (`turns:` URLs, #11 item 8): coturn with a certificate of its own in a host of its own, the relay
// handing out credentials for a turns: URL only, and the web client (Chromium) in namespace hosts. With
// everything but TCP to the relay and to coturn's TLS port blocked in one host, the call connects through
// TURN over TLS. The certificate is self-signed for the TURN host's address; Chromium is told to accept that
// one key (--ignore-certificate-errors-spki-list), as a deployment would use a certificate its users trust.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../testbed/index.js';
import { useWebWorld } from '../../harness/app/web-world.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../../harness/app/calls.js';
import type { AppUser } from '../../harness/app/app.js';
import { selfSignedCert } from '../../helpers/relay/self-signed.js';

const TURN_SCRIPT = fileURLToPath(new URL('./peers/turn-host.ts', import.meta.url));
const TURN_PORT = 3478;
const TURNS_PORT = 5349;
const SECRET = 'turns-coturn-static-auth-secret';

let certificate: { cert: string; key: string; spki: string } | null = null;

const world = useWebWorld({
  users: ['a', 'b'],
  others: ['turn'],
  launch: () => {
    const { turn } = world.bed().hosts;
    // coturn reads its certificate and key from files.
    const made = selfSignedCert({ ips: [turn.address], commonName: 'parley-turn-test' });
    const dir: string = world.bed().tempDir;
    certificate = { cert: join(dir, 'turn-cert.pem'), key: join(dir, 'turn-key.pem'), spki: made.spki };
    writeFileSync(certificate.cert, made.cert);
    writeFileSync(certificate.key, made.key);
    return {
      media: true,
      extraArgs: [
        '--autoplay-policy=no-user-gesture-required',
        `--ignore-certificate-errors-spki-list=${certificate.spki}`,
      ],
    };
  },
  pair: ['Alice', 'Bob'],
  relayTurn: (hosts) => ({ urls: [`turns:${hosts.turn.address}:${TURNS_PORT}?transport=tcp`], secret: SECRET }),
});
const bed = world.bed;

describe('web client: calls through TURN over TLS', () => {
  let alice: AppUser;
  let bob: AppUser;
  let turn: NodeProcess<{ type: string; message?: string }> | null = null;

  beforeAll(async () => {
    [alice, bob] = world.pair();
    const { turn: T } = bed().hosts;
    turn = T.spawnNode<{ type: string; message?: string }>(TURN_SCRIPT, [
      JSON.stringify({
        address: T.address,
        port: TURN_PORT,
        secret: SECRET,
        tls: { port: TURNS_PORT, cert: certificate!.cert, key: certificate!.key },
      }),
    ]);
    const up = await turn.next((m) => m.type === 'ready' || m.type === 'error', 20_000);
    expect(up, turn.diagnostics()).toEqual({ type: 'ready' });
  });
  afterAll(async () => {
    await turn?.stop(2_000);
  });

  it('only TCP to the relay and to the TLS port of TURN open in one host: the call is active via TURN over TLS', async () => {
    const { b } = bed().hosts;
    await b.blockAllExcept({ tcpPorts: [world.relay.port, TURNS_PORT] });
    try {
      await alice.openChat('Bob');
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 45_000 })
          .toBe('turn');
      }
      await callDialog(bob, 'Alice').getByRole('button', { name: 'Statistics' }).click();
      await expect
        .poll(() => bob.page.locator('[data-stat="path"]').textContent(), { timeout: 15_000 })
        .toMatch(/TURN/i);
      await expect.poll(() => bob.page.locator('[data-stat="in"]').textContent(), { timeout: 15_000 }).toMatch(/\d/);
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    } finally {
      await hangUpLeftoverCall(alice, bob);
      await b.unblock();
    }
  });
});
