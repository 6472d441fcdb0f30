// `parley receive --dir DIR`: stay online and save files offered by contacts, verified and resumable.
import type { Command } from 'commander';
import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TransferInfo } from '../../../core/src/transfer/index.js';
import { openOffline } from '../engine.js';
import { CliError, UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { describeContact } from '../resolve-contact.js';
import { withHome } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { openWithFiles } from '../transfers.js';
import { receiveDirProblem, receivePathsProblem } from '../receive-policy.js';
import { messageJson } from './listen.js';
import { progressSinkFor, reportProgress } from '../transfer-report.js';

const FINAL_OFFER = new Set(['done', 'declined', 'cancelled']);

export function registerReceive(program: Command): void {
  program
    .command('receive')
    .description('stay online and save files that contacts send; partial files resume')
    .requiredOption('--dir <dir>', 'folder to save into (created if missing); folders sent keep their tree')
    .option('--from <contact>', 'accept offers only from this contact (others are declined)')
    .option('--once', 'exit after the first offer finishes: 0 if every file in it was verified, else 1')
    .option(
      '--allow-dot-files',
      'accept files and folders whose names start with a dot (refused by default: .ssh, .config, .git, ...)',
    )
    .option('--allow-any-dir', 'allow --dir to be your home directory or inside a git repository')
    .addHelpText(
      'after',
      `
Offers from people who are not your contacts are declined without asking. Offers naming hidden files or
folders (a name starting with a dot) or two names that differ only in letter case are declined with the
reason. --dir may not be your home directory or inside a git repository (unless --allow-any-dir). A file is written as
NAME.<key>.part and renamed only after its SHA-256 matched the sender's; an existing file is never
replaced ("name (1).ext" instead). Runs until SIGINT/SIGTERM unless --once.
--json prints JSON lines: {"type":"offer","offerId","from","name","files","total"}, {"type":"progress",...},
{"type":"file","offerId","from","file","state","savedAs"?,"size","error"?}, {"type":"done","offerId","ok"},
{"type":"message",...} for chat messages, and first {"type":"ready","dir"}.`,
    )
    .action(
      async (
        opts: { dir: string; from?: string; once?: boolean; allowDotFiles?: boolean; allowAnyDir?: boolean },
        cmd: Command,
      ) => {
        const dir = resolve(opts.dir);
        if (!opts.allowAnyDir) {
          const risky = await receiveDirProblem(dir);
          if (risky)
            throw new UsageError(
              `--dir: ${risky}; a sender's files there could become live configuration. Receive into a folder of its own (e.g. ~/Downloads/parley), or pass --allow-any-dir.`,
            );
        }
        try {
          await mkdir(dir, { recursive: true });
          if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
        } catch (err) {
          throw new UsageError(`--dir ${opts.dir}: ${(err as Error).message}`);
        }
        await withHome(cmd, async (ctx) => {
          const { out } = ctx;
          const shutdown = watchShutdown();
          // The filter is known before the Messenger opens: offers may arrive as soon as it does.
          const book = await openOffline(ctx);
          const contacts = book.contacts.list();
          const only = opts.from !== undefined ? book.resolve(opts.from) : null;
          const names = new Map(contacts.map((c) => [c.id, c.name]));
          const who = (id: string): string => describeContact({ id, name: names.get(id) ?? '' });
          const refused = new Map<string, string>();
          const online = await openWithFiles(ctx, {
            receiveDir: dir,
            decide: (offer) => {
              if (only !== null && offer.contactId !== only.id) return 'decline';
              const problem = receivePathsProblem(
                offer.files.map((f) => f.relativePath),
                opts.allowDotFiles ? { allowDotFiles: true } : {},
              );
              if (problem === null) return 'accept';
              // 'ask' then decline with the reason, so the sender is told why (a plain 'decline' says only "declined").
              refused.set(offer.offerId, problem);
              return 'ask';
            },
          });
          const { messenger, transfers: engine } = online;
          const view = progressSinkFor(out);
          engine.on('offer', (offer) => {
            const why = refused.get(offer.offerId);
            if (why === undefined) return;
            view.log(`declined an offer from ${who(offer.contactId)}: ${safeText(why)}`);
            out.record({ type: 'declined', offerId: offer.offerId, from: offer.contactId, reason: why });
            engine.decline(offer.offerId, why);
          });
          let firstFinished: TransferInfo | null = null;
          try {
            const announced = new Set<string>();
            const sizeOf = (offerId: string, fileId: number): number =>
              engine.get(offerId)?.files.find((f) => f.fileId === fileId)?.size ?? 0;
            // Announced once per offer, whether it is new or resumed from an earlier run.
            const announce = (offerId: string): void => {
              const info = engine.get(offerId);
              if (!info || info.direction !== 'in' || announced.has(offerId) || info.state === 'pending') return;
              announced.add(offerId);
              out.record({
                type: 'offer',
                offerId,
                from: info.contactId,
                name: names.get(info.contactId) ?? '',
                files: info.files.map((f) => ({ file: f.relativePath, size: f.size })),
                total: info.total,
              });
              const done = info.files.reduce((n, f) => n + f.bytesDone, 0);
              view.log(
                `receiving ${info.files.length} file(s), ${formatBytes(info.total)} from ${who(info.contactId)}${done > 0 ? ` (resuming at ${formatBytes(done)})` : ''}`,
              );
            };
            const finishedOnce = new Promise<TransferInfo>((resolveOnce) => {
              engine.on('state', (info) => {
                if (info.direction !== 'in') return;
                if (info.state === 'active') announce(info.offerId);
                if (info.state === 'paused' && info.error) {
                  view.log(`paused: ${safeText(info.error.message)}`);
                  out.record({ type: 'paused', offerId: info.offerId, error: info.error });
                  // --once: a paused offer needs someone to act (free space, re-run send); say so and end.
                  resolveOnce(info);
                }
                if (FINAL_OFFER.has(info.state)) {
                  announce(info.offerId);
                  const ok = info.state === 'done' && info.files.every((f) => f.state === 'verified');
                  out.record({ type: 'done', offerId: info.offerId, ok });
                  resolveOnce(info);
                }
              });
              engine.on('progress', (p) => {
                if (p.direction !== 'in') return;
                announce(p.offerId);
                reportProgress(out, view, p, messenger.routeOf(p.contactId));
              });
              engine.on('file', (f) => {
                if (f.direction !== 'in') return;
                announce(f.offerId);
                const size = sizeOf(f.offerId, f.fileId);
                out.record({
                  type: 'file',
                  offerId: f.offerId,
                  from: f.contactId,
                  file: f.relativePath,
                  state: f.state,
                  size,
                  ...(f.savedAs ? { savedAs: f.savedAs } : {}),
                  ...(f.error ? { error: f.error } : {}),
                });
                view.finish(
                  `${f.offerId}/${f.fileId}`,
                  f.state === 'verified'
                    ? `✓ ${safeText(f.savedAs ?? f.relativePath)} (${formatBytes(size)}) from ${who(f.contactId)}, SHA-256 verified`
                    : `✗ ${safeText(f.relativePath)} from ${who(f.contactId)}: ${f.state}${f.error ? ` (${safeText(f.error.message)})` : ''}`,
                );
              });
              engine.on('error', (e) => view.log(`error from ${who(e.contactId)}: ${safeText(e.message)}`));
            });
            messenger.on('message', (m) => {
              if (m.direction === 'in')
                out.result(`${who(m.contactId)}: ${safeText(m.text)}`, messageJson(m, names.get(m.contactId) ?? ''));
            });
            // Any contact may send: run the engine on every contact's session from the start.
            for (const c of contacts) if (only === null || c.id === only.id) messenger.sessionFor(c.id);
            out.record({ type: 'ready', dir });
            if (!out.json)
              out.note(`receiving into ${dir}${only ? ` from ${describeContact(only)} only` : ''}; Ctrl-C to stop`);
            if (opts.once) {
              firstFinished = await Promise.race([finishedOnce, shutdown.requested.then(() => null)]);
            } else {
              await shutdown.requested;
            }
          } finally {
            view.close();
            shutdown.dispose();
            await messenger.close({ drain: true });
          }
          if (
            opts.once &&
            firstFinished &&
            !(firstFinished.state === 'done' && firstFinished.files.every((f) => f.state === 'verified'))
          ) {
            if (firstFinished.state === 'paused') {
              const cause =
                firstFinished.error?.code === 'disk-full'
                  ? 'this disk is full'
                  : safeText(firstFinished.error?.message ?? 'paused');
              throw new CliError(
                `the offer from ${who(firstFinished.contactId)} is paused: ${cause}. The partial file is kept: ${firstFinished.error?.code === 'disk-full' ? 'free some space, then ' : ''}run receive again and have them run the same send again to continue.`,
              );
            }
            const reason = refused.get(firstFinished.offerId) ?? firstFinished.error?.message;
            throw new CliError(
              `the offer from ${who(firstFinished.contactId)} ended ${firstFinished.state}${reason ? ` (${safeText(reason)})` : ''}; not every file was verified`,
            );
          }
        });
      },
    );
}
