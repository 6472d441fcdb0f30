// Page side of the Chromium test-bed peer (injected by browser-peer.ts after simplepeer.min.js and hash-wasm's
// sha256 bundle). Same behaviour as wrtc-peer.ts; commands arrive already validated by the driver, events go
// back through the exposed `__tbEmit` binding. Plain JavaScript on purpose: injected as-is, no transpiling.
(() => {
  const TAG_TEXT = 1;
  const TAG_DATA = 2;
  const emit = (ev) => window.__tbEmit(ev);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let peer = null;
  let createdAt = 0;
  let rx = null;
  let rxBytes = 0;
  let rxStart = 0;
  let rxExpect = null;

  const newHasher = async () => {
    const h = await window.hashwasm.createSHA256();
    h.init();
    return h;
  };

  const checkReceived = async () => {
    if (rxExpect === null || rxBytes < rxExpect) return;
    const ev = {
      type: 'received',
      bytes: rxBytes,
      sha256: rx.digest('hex'),
      ms: rxStart ? performance.now() - rxStart : 0,
    };
    rx = await newHasher();
    rxBytes = 0;
    rxStart = 0;
    rxExpect = null;
    emit(ev);
  };

  const onData = (buf) => {
    if (buf[0] === TAG_TEXT) {
      emit({ type: 'text', text: decoder.decode(buf.subarray(1)) });
    } else if (buf[0] === TAG_DATA) {
      if (!rxStart) rxStart = performance.now();
      rx.update(buf.subarray(1));
      rxBytes += buf.length - 1;
      if (rxExpect !== null && rxBytes >= rxExpect) void checkReceived();
    } else {
      emit({ type: 'error', message: `unknown frame tag ${buf[0]}`, code: 'ERR_TESTBED_FRAME' });
    }
  };

  const create = (cmd) => {
    if (peer) throw new Error('this page already has a peer: open a new one');
    createdAt = performance.now();
    const p = new window.SimplePeer({ initiator: cmd.initiator, trickle: cmd.trickle, config: cmd.config });
    peer = p;
    p.on('signal', (data) => emit({ type: 'signal', data: JSON.parse(JSON.stringify(data)) }));
    // Same reporting as the Node peer: from the RTCPeerConnection, deduplicated.
    let lastIce = '';
    let lastConn = '';
    const report = () => {
      const pc = p._pc;
      if (pc.iceConnectionState !== lastIce) {
        lastIce = pc.iceConnectionState;
        emit({ type: 'ice', state: lastIce, gathering: pc.iceGatheringState });
      }
      if (pc.connectionState !== lastConn) {
        lastConn = pc.connectionState;
        emit({ type: 'connection', state: lastConn });
      }
    };
    p._pc.addEventListener('iceconnectionstatechange', report);
    p._pc.addEventListener('connectionstatechange', report);
    p.on('connect', () => emit({ type: 'connect', ms: performance.now() - createdAt }));
    p.on('data', onData);
    p.on('close', () => emit({ type: 'close' }));
    p.on('error', (err) =>
      emit({ type: 'error', message: String(err && err.message), code: (err && err.code) || null }),
    );
  };

  const waitDrain = (p) =>
    new Promise((resolve, reject) => {
      const done = (err) => {
        p.off('drain', onDrain);
        p.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('peer closed during pump'));
      p.on('drain', onDrain);
      p.on('close', onClose);
    });

  const pump = async (bytes, chunkSize) => {
    const p = peer;
    if (!p) throw new Error('pump before create');
    const hash = await newHasher();
    const start = performance.now();
    let sent = 0;
    while (sent < bytes) {
      const n = Math.min(chunkSize, bytes - sent);
      const frame = new Uint8Array(n + 1);
      // getRandomValues fills at most 65536 bytes per call.
      for (let off = 1; off < frame.length; off += 65536)
        crypto.getRandomValues(frame.subarray(off, Math.min(off + 65536, frame.length)));
      frame[0] = TAG_DATA;
      hash.update(frame.subarray(1));
      sent += n;
      if (!p.write(frame)) await waitDrain(p);
    }
    emit({ type: 'pumped', bytes: sent, sha256: hash.digest('hex'), ms: performance.now() - start });
  };

  const handle = async (cmd) => {
    switch (cmd.type) {
      case 'create':
        return create(cmd);
      case 'signal':
        if (!peer) throw new Error('signal before create');
        return peer.signal(cmd.data);
      case 'send': {
        if (!peer) throw new Error('send before create');
        const text = encoder.encode(cmd.text);
        const frame = new Uint8Array(text.length + 1);
        frame[0] = TAG_TEXT;
        frame.set(text, 1);
        peer.write(frame);
        return;
      }
      case 'pump':
        // Runs in the background: its outcome arrives as a `pumped` or `error` event.
        pump(cmd.bytes, cmd.chunkSize).catch((err) =>
          emit({ type: 'error', message: String(err && err.message), code: 'ERR_TESTBED_COMMAND' }),
        );
        return;
      case 'expect':
        rxExpect = cmd.bytes;
        return checkReceived();
      case 'destroy':
        if (peer) peer.destroy();
        return;
      default:
        throw new Error(`unsupported command ${cmd.type}`);
    }
  };

  // Raw getStats() reports as plain objects; the driver picks the selected pair (one implementation, in Node).
  const stats = async () => {
    if (!peer || !peer._pc) return [];
    const out = [];
    (await peer._pc.getStats()).forEach((r) => out.push({ ...r }));
    return out;
  };

  window.__tbPeer = {
    handle: (cmd) =>
      handle(cmd).catch((err) =>
        emit({ type: 'error', message: String(err && err.message), code: 'ERR_TESTBED_COMMAND' }),
      ),
    stats,
  };
  newHasher().then(
    (h) => {
      rx = h;
      emit({ type: 'ready', runtime: 'chromium' });
    },
    (err) => emit({ type: 'error', message: `hash-wasm: ${err && err.message}`, code: 'ERR_TESTBED_INIT' }),
  );
})();
