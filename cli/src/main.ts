// `parley`: the headless Parley peer for scripts and servers.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
import { safeOutput } from './terminal.js';
import { LOG_LEVELS } from '../../platform/node/src/logger.js';
import { registerId } from './commands/id.js';
import { registerContactCommands } from './commands/contacts.js';
import { registerRequests } from './commands/requests.js';
import { registerSay } from './commands/say.js';
import { registerChat } from './commands/chat.js';
import { registerListen } from './commands/listen.js';
import { registerSend } from './commands/send.js';
import { registerReceive } from './commands/receive.js';
import { registerTransfers } from './commands/transfers.js';

/** What a direct connection exposes (issue 12.17, docs/decisions/node-webrtc.md): said where users choose. */
export const DIRECT_EXPOSURE_HELP = `
Direct connections (the default) and what they expose:
  Without --relay-only, parley connects to a contact directly with WebRTC (@roamhq/wrtc 0.10: libwebrtc
  M106, 2022, without later security fixes). The contact then learns your IP addresses, and that WebRTC
  stack parses what the contact sends. With --relay-only no direct connection is made or accepted: the
  contact's data reaches this process only as AES-GCM records through the relay, and the relay sees no
  address of yours beyond its own connection. Use --relay-only with contacts you do not fully trust.
`;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure (relay unreachable, not delivered in time, transfer failed, ...)
  2  usage error (bad arguments, unknown or ambiguous contact, no identity yet)

Environment:
  PARLEY_HOME  data directory (default ~/.parley)
  PARLEY_LOG   log level on stderr (default warn)`;

export function buildProgram(): Command {
  const program = new Command('parley')
    .description(
      'Parley, the headless peer-to-peer messenger: chat and files with your contacts from a terminal or script.',
    )
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .option('--home <dir>', 'data directory for this identity (default $PARLEY_HOME or ~/.parley)')
    .option('--json', 'machine-readable output: one JSON value per line on stdout')
    .option(
      '--relay <url>',
      'relay to use (ws:// or wss://); repeat for several. Overrides the stored relays',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--relay-only',
      'never connect directly (WebRTC or TCP); carry everything through the relay, end-to-end encrypted',
    )
    .addOption(
      new Option('--log-level <level>', 'log level on stderr (default $PARLEY_LOG or warn)').choices(LOG_LEVELS),
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  registerId(program);
  registerContactCommands(program);
  registerRequests(program);
  registerSay(program);
  registerChat(program);
  registerListen(program);
  registerSend(program);
  registerReceive(program);
  registerTransfers(program);

  // Every command documents the exit codes; commander copies exitOverride/configureHelp to subcommands
  // created after them, but help text must be added per command.
  program.addHelpText('after', DIRECT_EXPOSURE_HELP);
  for (const cmd of [program, ...program.commands]) cmd.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

/** Runs the CLI with user arguments (no node/script prefix) and returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    const json = program.opts<{ json?: boolean }>().json ?? args.includes('--json');
    const code = err instanceof CliError ? err.exitCode : EXIT_FAILURE;
    const message =
      err instanceof CliError
        ? err.message
        : `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    process.stderr.write(`parley: ${safeOutput(message)}\n`);
    if (json)
      process.stdout.write(
        JSON.stringify({ type: 'error', error: err instanceof Error ? err.message : String(err), exitCode: code }) +
          '\n',
      );
    return code;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Process entry: exit explicitly, since native WebRTC handles can keep the event loop alive after close. */
export async function runAsProcess(args: readonly string[]): Promise<never> {
  // A closed pipe on stdout (`parley listen | head -1`) ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
  });
  // A long-running listen/receive must not die on one stray rejection deep in a session: report it.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(
      `parley: internal error (continuing): ${safeOutput(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}\n`,
    );
  });
  const code = await main(args);
  process.exit(code);
}

if (isEntryPoint()) void runAsProcess(process.argv.slice(2));
