// Runs the relay CLI from source (node --import tsx), so tests need no prior build.
import { runCli } from '../../../signaling/server/cli.js';

await runCli(process.argv);
