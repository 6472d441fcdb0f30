// Composition root of the Electron main process: the only main-process file that imports 'electron' at
// run time. It hands the real module to composeMainProcess() (compose.ts) and does nothing else, so the
// whole shell runs in tests against a recording fake (tests/unit/electron/compose.test.ts checks this file).
import * as electron from 'electron';
import { composeMainProcess } from './compose.js';

composeMainProcess(electron);
