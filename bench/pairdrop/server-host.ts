// Runs PairDrop's own server inside a test-bed host for bench:e2e (the peer comparison of issue 16).
// argv: <PairDrop checkout> <port> <RTC config file>. The checkout is not part of Parley (GPL-3.0, not on
// npm): bench/README.md says how to get it. Its RTC config has no ICE servers, so nothing leaves the test
// bed (PairDrop's default is a public STUN server). Reports { type: 'listening' } once the port answers.
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, port, rtcConfig] = process.argv.slice(2);
if (!dir || !port || !rtcConfig) throw new Error('usage: server-host <pairdrop dir> <port> <rtc config>');
process.env.PORT = port;
process.env.RTC_CONFIG = rtcConfig;
await import(pathToFileURL(join(dir, 'server/index.js')).href);

const answers = (): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
for (let attempt = 0; attempt < 100 && !(await answers()); attempt++) await new Promise((r) => setTimeout(r, 100));
process.send?.({ type: 'listening' });
