// Preloaded into every test-bed Node script: when the test process dies, exit too, so a crashed test run never
// leaves a peer running inside a namespace. Polls the parent pid with an unref'd timer instead of listening for
// 'disconnect', because a 'disconnect' listener refs the IPC channel and would keep one-shot scripts alive.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
