// `parley transfers` lists unfinished (or, with --all, every) file offer in both directions with state
// and progress; `parley cancel <id>` ends one, telling the other side. Earlier runs' offers no longer
// resume by themselves (only `send` of the same files resumes its own), so these are how a person sees
// and clears what is left.
import { join } from 'node:path';
import type { Command } from 'commander';
import { TransferEngine, type TransferInfo } from '../../../core/src/transfer/index.js';
import { NodeFileSink, NodeFileSource } from '../../../platform/node/src/file-io.js';
import { openOffline, type Online } from '../engine.js';
import { CliError, UsageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { describeContact } from '../resolve-contact.js';
import { withHome, type ActionContext } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { openWithFiles } from '../transfers.js';
import { positiveInt } from './contacts.js';

const FINAL = new Set(['done', 'declined', 'cancelled']);

export interface TransferJson {
  offerId: string;
  direction: 'in' | 'out';
  contact: string;
  name: string;
  state: string;
  bytesDone: number;
  total: number;
  createdAt: number;
  files: Array<{
    file: string;
    size: number;
    bytesDone: number;
    state: string;
    error?: { code: string; message: string };
  }>;
  error?: { code: string; message: string };
}

export function transferJson(t: TransferInfo, name: string): TransferJson {
  return {
    offerId: t.offerId,
    direction: t.direction,
    contact: t.contactId,
    name,
    state: t.state,
    bytesDone: t.files.reduce((n, f) => n + f.bytesDone, 0),
    total: t.total,
    createdAt: t.createdAt,
    files: t.files.map((f) => ({
      file: f.relativePath,
      size: f.size,
      bytesDone: f.bytesDone,
      state: f.state,
      ...(f.error ? { error: f.error } : {}),
    })),
    ...(t.error ? { error: t.error } : {}),
  };
}

/** The offers recorded in this home, read without going online. */
async function storedOffers(ctx: ActionContext): Promise<TransferInfo[]> {
  const engine = new TransferEngine({
    store: ctx.home.store,
    source: new NodeFileSource(),
    sink: new NodeFileSink(join(ctx.home.dir, 'received')),
    logger: ctx.logger,
  });
  await engine.start();
  const list = engine.list();
  await engine.close();
  return list;
}

/** One offer by id or unique id prefix. */
export function findOffer(list: readonly TransferInfo[], query: string): TransferInfo {
  const q = query.trim();
  if (q.length < 4) throw new UsageError('give at least 4 characters of the offer id (see `parley transfers`)');
  const hits = list.filter((t) => t.offerId === q || t.offerId.startsWith(q));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new UsageError(`no transfer matches "${safeText(q)}" (see \`parley transfers --all\`)`);
  throw new UsageError(`"${safeText(q)}" matches ${hits.length} transfers; give more of the id`);
}

export function registerTransfers(program: Command): void {
  program
    .command('transfers')
    .description('list file offers in both directions that are not finished: state and progress')
    .option('--all', 'include finished, declined and cancelled offers')
    .addHelpText(
      'after',
      '\n--json prints one JSON array of {"offerId","direction","contact","name","state","bytesDone","total","createdAt","files":[{"file","size","bytesDone","state","error"?}],"error"?}.',
    )
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const book = await openOffline(ctx);
        const names = new Map(book.contacts.list().map((c) => [c.id, c.name]));
        const list = (await storedOffers(ctx))
          .filter((t) => opts.all || !FINAL.has(t.state))
          .sort((a, b) => a.createdAt - b.createdAt);
        if (ctx.out.json) {
          ctx.out.record(list.map((t) => transferJson(t, names.get(t.contactId) ?? '')));
          return;
        }
        if (list.length === 0) {
          ctx.out.line(opts.all ? 'no transfers' : 'no unfinished transfers');
          return;
        }
        for (const t of list) {
          const done = t.files.reduce((n, f) => n + f.bytesDone, 0);
          const pct = t.total > 0 ? Math.floor((100 * done) / t.total) : 100;
          const who = describeContact({ id: t.contactId, name: names.get(t.contactId) ?? '' });
          const first = t.files[0]?.relativePath ?? '';
          const what = `${safeText(first)}${t.files.length > 1 ? ` and ${t.files.length - 1} more` : ''}`;
          ctx.out.line(
            `${t.offerId.slice(0, 12)}  ${t.direction === 'out' ? 'to  ' : 'from'} ${who}  ${t.state}  ${pct}% of ${formatBytes(t.total)}  ${what}${t.error ? `  (${safeText(t.error.message)})` : ''}`,
          );
        }
      });
    });

  program
    .command('cancel')
    .description('cancel a file offer, either direction; the other side is told (waits up to --timeout to reach them)')
    .argument(
      '<id>',
      'offer id or a unique prefix of it (see `parley transfers`); an id that starts with "-" goes after "--": parley cancel -- -xsM0',
    )
    .option(
      '--timeout <seconds>',
      'how long to wait for the contact to be reached',
      (v) => positiveInt(v, '--timeout'),
      15,
    )
    .addHelpText(
      'after',
      '\nPartial files of a cancelled incoming offer are deleted. --json prints {"type":"cancelled","offerId","told"}.',
    )
    .action(async (query: string, opts: { timeout: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const offer = findOffer(await storedOffers(ctx), query);
        if (FINAL.has(offer.state))
          throw new CliError(`the offer ${offer.offerId.slice(0, 12)} already ended (${offer.state})`);
        const shutdown = watchShutdown();
        // Never resume anything here (resumeOnAttach defaults to none): only the cancel goes out.
        const online = await openWithFiles(ctx, { decide: () => 'decline' });
        const { messenger, transfers: engine } = online;
        let reached = false;
        try {
          const contact = (await messenger.contacts()).find((c) => c.id === offer.contactId);
          const who = describeContact({ id: offer.contactId, name: contact?.name ?? '' });
          // The cancel is a control frame on the contact's stream: wait until the stream is up to send it.
          if (contact) {
            messenger.sessionFor(contact.id);
            reached = await waitForPath(messenger, contact.id, opts.timeout * 1000, shutdown.signal);
          }
          engine.cancel(offer.offerId);
          ctx.out.result(
            reached
              ? `cancelled ${offer.offerId.slice(0, 12)}; ${who} was told`
              : `cancelled ${offer.offerId.slice(0, 12)} here; ${who} could not be reached: ${offer.direction === 'in' ? 'they are told when they next offer it' : 'they can cancel it on their side (`parley cancel`)'}`,
            { type: 'cancelled', offerId: offer.offerId, told: reached },
          );
        } finally {
          shutdown.dispose();
          // drain: the cancel frame is acknowledged by the peer before the session closes.
          await messenger.close({ drain: reached, drainTimeoutMs: opts.timeout * 1000 });
        }
      });
    });
}

async function waitForPath(
  messenger: Online['messenger'],
  contactId: string,
  ms: number,
  abort: AbortSignal,
): Promise<boolean> {
  if (messenger.pathOf(contactId) !== 'none') return true;
  return new Promise<boolean>((resolve) => {
    const off = messenger.on('path', (p) => {
      if (p.contactId === contactId && p.path !== 'none') done(true);
    });
    const timer = setTimeout(() => done(false), ms);
    const onAbort = (): void => done(false);
    abort.addEventListener('abort', onAbort);
    function done(ok: boolean): void {
      clearTimeout(timer);
      off();
      abort.removeEventListener('abort', onAbort);
      resolve(ok);
    }
  });
}
