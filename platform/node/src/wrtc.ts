// @roamhq/wrtc is a native module: loaded lazily so commands that never open a peer connection
// (id, add, contacts --offline, safety, verify, --help) start fast and work where it cannot load.
import { createRequire } from 'node:module';

let cached: unknown;

export function loadWrtc(): unknown {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    cached = require('@roamhq/wrtc');
  }
  return cached;
}
