// `parley send <contact> <path...>`: offer files and folders, show progress, exit 0 only when the
// receiver verified every file.
import type { Command } from 'commander';

import type { OutgoingFile, TransferInfo } from '../../../core/src/transfer/index.js';
import { TransferError } from '../../../core/src/transfer/index.js';
import { CliError, UsageError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import { walkForSend } from '../send-walk.js';
import { describeContact } from '../resolve-contact.js';
import { relayProblem } from '../relay-diagnosis.js';
import { withHome } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { offersWithMissingSources, openWithFiles } from '../transfers.js';
import { progressSinkFor, reportProgress } from '../transfer-report.js';
import { positiveInt } from './contacts.js';

const FINAL_OFFER = new Set(['done', 'declined', 'cancelled']);

/** Same files (path, source, size, mtime) in the same order: a re-run of the same `send` resumes instead of duplicating. */
function sameFiles(info: TransferInfo, files: readonly OutgoingFile[], sources: ReadonlyMap<string, string>): boolean {
  return (
    info.files.length === files.length &&
    info.files.every((f, i) => {
      const g = files[i]!;
      return (
        f.relativePath === g.relativePath &&
        f.size === g.size &&
        f.mtime === g.mtime &&
        sources.get(g.relativePath) === g.source
      );
    })
  );
}

/** The reason an offer paused, naming whose problem it is (a full disk is the receiver's). */
export function pauseCause(error: { code: string; message: string }, who: string): string {
  if (error.code === 'disk-full')
    return `${who}'s disk is full (${error.message}); once they free space, run the same command again to continue`;
  return error.message;
}

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('send files and folders to a contact; exits 0 once they verified every file')
    .argument('<contact>', 'display name or id prefix')
    .argument('<path...>', 'files and folders (a folder is sent with its tree)')
    .option(
      '--timeout <seconds>',
      'give up after this long without any progress (the offer stays, run again to resume)',
      (v) => positiveInt(v, '--timeout'),
      120,
    )
    .addHelpText(
      'after',
      `
Running the same command again after an interruption resumes: the receiver keeps what it has.
Symbolic links and special files are skipped (listed on stderr).
--json prints JSON lines: {"type":"offer","offerId","files","total"}, {"type":"progress","offerId","file",
"fileBytesDone","fileSize","bytesDone","total","speed","eta","path","route"} (route: tcp, webrtc or relay),
{"type":"file","offerId","file","state",
"error"?}, and last {"type":"result","ok","files":[{"file","size","state","error"?}]}.`,
    )
    .action(async (query: string, paths: string[], opts: { timeout: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const { out } = ctx;
        let walked;
        try {
          walked = await walkForSend(paths);
        } catch (err) {
          if (err instanceof TransferError) throw new UsageError(err.message);
          throw err;
        }
        for (const s of walked.skipped) out.note(`skipped ${s.path}: ${s.reason}`);
        if (walked.files.length === 0) throw new UsageError('nothing to send (no regular files in the paths given)');

        const shutdown = watchShutdown();
        // The offers this run sends or resumes: the only ones that continue when the contact connects.
        const mine = new Set<string>();
        const online = await openWithFiles(ctx, {
          decide: () => 'decline',
          resumeOnAttach: (o) => mine.has(o.offerId),
        });
        const { messenger, transfers: engine } = online;
        const view = progressSinkFor(out);
        try {
          const contact = await online.resolve(query);
          const who = describeContact(contact);
          // What the final message blames: the relay, the contact being away, or nothing known.
          let relay: { state: string; error?: string } = messenger.relayState();
          let contactOnline = contact.online;
          const watch = [
            messenger.on('relay', (r) => (relay = r)),
            messenger.on('contact', (c) => {
              if (c.id === contact.id) contactOnline = c.online;
            }),
          ];
          const sources = new Map(walked.files.map((f) => [f.relativePath, f.source]));
          // A previous identical run still unfinished: continue it rather than offering twice.
          const earlier = engine
            .list()
            .filter((t) => t.direction === 'out' && t.contactId === contact.id && !FINAL_OFFER.has(t.state));
          let offers: TransferInfo[];
          const reused = earlier.find((t) => sameFiles(t, walked.files, sources));
          // Earlier offers whose files are gone can never finish: end them now, said once, and tell the contact.
          const gone = await offersWithMissingSources(
            ctx.home.store,
            earlier.filter((t) => t !== reused),
          );
          if (gone.size > 0) {
            messenger.sessionFor(contact.id);
            for (const offerId of gone.keys()) engine.cancel(offerId);
            out.note(
              `cancelled ${gone.size} earlier offer(s) to ${who} whose files are gone: ${[...gone.values()]
                .flat()
                .map((f) => safeText(f))
                .join(', ')}`,
            );
          }
          const others = earlier.filter((t) => t !== reused && !gone.has(t.offerId));
          if (others.length > 0) {
            out.note(
              `${others.length} other unfinished offer(s) to ${who} stay paused (not resumed by this send): ${others.map((t) => t.offerId.slice(0, 8)).join(', ')}; see \`parley transfers\`, \`parley cancel <id>\``,
            );
          }
          if (reused) {
            offers = [reused];
            out.note(`resuming the earlier offer of these files to ${who}`);
            messenger.sessionFor(contact.id);
            mine.add(reused.offerId);
            engine.reoffer(reused.offerId);
          } else {
            try {
              offers = await messenger.sendFiles(contact.id, walked.files);
              for (const o of offers) mine.add(o.offerId);
            } catch (err) {
              if (err instanceof TransferError) throw new UsageError(err.message);
              throw err;
            }
          }
          const ids = new Set(offers.map((o) => o.offerId));
          const total = offers.reduce((s, o) => s + o.total, 0);
          const count = offers.reduce((s, o) => s + o.files.length, 0);
          for (const o of offers)
            out.record({
              type: 'offer',
              offerId: o.offerId,
              files: o.files.map((f) => ({ file: f.relativePath, size: f.size })),
              total: o.total,
            });
          view.log(`offering ${count} file(s), ${formatBytes(total)} to ${who}`);
          const started = Date.now();

          const outcome = await new Promise<'done' | 'idle' | 'interrupted'>((resolve) => {
            let idle: ReturnType<typeof setTimeout> = setTimeout(() => finish('idle'), opts.timeout * 1000);
            const touch = (): void => {
              clearTimeout(idle);
              idle = setTimeout(() => finish('idle'), opts.timeout * 1000);
            };
            const check = (): void => {
              if ([...ids].every((id) => FINAL_OFFER.has(engine.get(id)?.state ?? 'done'))) finish('done');
            };
            const offs = [
              engine.on('progress', (p) => {
                if (!ids.has(p.offerId)) return;
                touch();
                reportProgress(out, view, p, messenger.routeOf(p.contactId));
              }),
              engine.on('file', (f) => {
                if (!ids.has(f.offerId)) return;
                touch();
                out.record({
                  type: 'file',
                  offerId: f.offerId,
                  file: f.relativePath,
                  state: f.state,
                  ...(f.error ? { error: f.error } : {}),
                });
                const summary =
                  f.state === 'verified'
                    ? `✓ ${safeText(f.relativePath)} verified by ${contact.name ? safeText(contact.name) : 'them'}`
                    : `✗ ${safeText(f.relativePath)}: ${f.state}${f.error ? ` (${safeText(f.error.message)})` : ''}`;
                view.finish(`${f.offerId}/${f.fileId}`, summary);
              }),
              engine.on('state', (info) => {
                if (!ids.has(info.offerId)) return;
                // Only movement counts as progress: a paused offer (full disk on their side) must not
                // keep the command alive past --timeout by bouncing between states.
                if (info.state !== 'paused') touch();
                if (info.state === 'paused' && info.error) view.log(`paused: ${safeText(pauseCause(info.error, who))}`);
                if (info.state === 'declined')
                  view.log(`${who} declined${info.error ? `: ${safeText(info.error.message)}` : ''}`);
                check();
              }),
              engine.on('error', (e) => {
                if (e.offerId && ids.has(e.offerId)) view.log(`error: ${safeText(e.message)}`);
              }),
            ];
            const onAbort = (): void => finish('interrupted');
            shutdown.signal.addEventListener('abort', onAbort);
            function finish(how: 'done' | 'idle' | 'interrupted'): void {
              clearTimeout(idle);
              for (const off of offs) off();
              shutdown.signal.removeEventListener('abort', onAbort);
              resolve(how);
            }
            messenger.sessionFor(contact.id);
            check();
          });
          view.close();

          const files = offers.flatMap((o) => engine.get(o.offerId)?.files ?? o.files);
          const verified = files.filter((f) => f.state === 'verified');
          out.record({
            type: 'result',
            ok: verified.length === files.length,
            // File bytes this process put on the wire (re-sends after a drop or the receiver's restart included).
            bytesSent: engine.stats.chunkBytesSent,
            files: files.map((f) => ({
              file: f.relativePath,
              size: f.size,
              state: f.state,
              ...(f.error ? { error: f.error } : {}),
            })),
          });
          if (verified.length === files.length) {
            const ms = Date.now() - started;
            if (!out.json)
              out.line(`${who} verified ${files.length} file(s), ${formatBytes(total)} in ${formatDuration(ms)}`);
            return;
          }
          const failed = files.filter((f) => f.state === 'failed' || f.state === 'cancelled');
          if (outcome === 'done') {
            const declined = offers.map((o) => engine.get(o.offerId)).find((o) => o?.state === 'declined');
            const why = declined
              ? `${who} declined the offer${declined.error?.message && declined.error.message !== 'declined' ? `: ${safeText(declined.error.message)}` : ''}`
              : `${failed.length} of ${files.length} file(s) failed: ${failed.map((f) => `${safeText(f.relativePath)} (${safeText(f.error?.message ?? f.state)})`).join(', ')}`;
            throw new CliError(`not sent: ${why}`);
          }
          for (const off of watch) off();
          const paused = offers.map((o) => engine.get(o.offerId)).find((o) => o?.state === 'paused' && o.error);
          let why: string;
          if (outcome === 'interrupted') why = 'interrupted';
          else if (paused?.error)
            why = `paused after ${opts.timeout} s without progress: ${safeText(pauseCause(paused.error, who))}`;
          else if (relay.state !== 'online' && messenger.pathOf(contact.id) === 'none') {
            why = `no progress for ${opts.timeout} s: could not reach the relay${relay.error ? ` (${safeText(relayProblem(relay.error))})` : ''}`;
          } else if (!contactOnline) why = `no progress for ${opts.timeout} s: ${who} is offline`;
          else
            why = `no progress for ${opts.timeout} s (${who} is online but not accepting: is \`parley receive\` running?)`;
          throw new CliError(
            `${verified.length} of ${files.length} file(s) verified; ${why}.\nRun the same command again to resume: ${who} keeps what they already have.`,
          );
        } finally {
          view.close();
          shutdown.dispose();
          await messenger.close({ drain: true });
        }
      });
    });
}
