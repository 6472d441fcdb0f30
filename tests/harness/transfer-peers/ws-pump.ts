// One end of the bare WebSocket baseline. argv: <url> <source|sink> <bytes>.
// source: sends <bytes> in 64 KiB binary messages, waiting while more than 1 MiB is not yet written out.
// sink: reports {type:'received', bytes, t} (wall clock ms) once <bytes> arrived.
import { WebSocket } from 'ws';

const [url = '', role = '', bytesText = '0'] = process.argv.slice(2);
const total = Number(bytesText);
const ws = new WebSocket(`${url}/${role}`, { perMessageDeflate: false });
ws.binaryType = 'nodebuffer';
await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});
const now = () => performance.timeOrigin + performance.now();

if (role === 'sink') {
  let got = 0;
  ws.on('message', (data: Buffer) => {
    got += data.length;
    if (got >= total) process.send?.({ type: 'received', bytes: got, t: now() });
  });
  process.send?.({ type: 'ready' });
} else {
  process.send?.({ type: 'ready' });
  process.once('message', () => {
    void (async () => {
      const frame = Buffer.alloc(64 * 1024, 7);
      const t = now();
      let sent = 0;
      let outstanding = 0;
      let wake: (() => void) | null = null;
      while (sent < total) {
        const n = Math.min(frame.length, total - sent);
        outstanding += n;
        // The send callback fires once ws handed the bytes to the socket: the event-driven backpressure.
        ws.send(n === frame.length ? frame : frame.subarray(0, n), () => {
          outstanding -= n;
          if (outstanding <= 512 * 1024 && wake) {
            const w = wake;
            wake = null;
            w();
          }
        });
        sent += n;
        if (outstanding > 1024 * 1024) await new Promise<void>((resolve) => (wake = resolve));
      }
      process.send?.({ type: 'started', t });
    })();
  });
}
