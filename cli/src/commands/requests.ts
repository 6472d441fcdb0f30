// Contact requests from the terminal: `parley requests` lists who asked to connect (with the safety number to
// check), `parley accept <who>` and `parley decline <who> [--block]` answer. Requests wait in the relay's
// mailbox while we are offline; these commands connect briefly to collect them.
import type { Command } from 'commander';
import type { ContactRequestView } from '../../../core/src/api.js';
import type { Messenger } from '../../../core/src/messenger.js';
import { openOnline } from '../engine.js';
import { awaitRelayMail } from '../mail.js';
import { UsageError } from '../errors.js';
import { describeContact } from '../resolve-contact.js';
import { withHome, type ActionContext } from '../run.js';
import { positiveInt, safetyLines } from './contacts.js';

export interface RequestJson {
  id: string;
  name: string;
  relays: string[];
  receivedAt: number;
  safetyNumber: string;
}

export function registerRequests(program: Command): void {
  program
    .command('requests')
    .description('list contact requests: people who added you from your invite and wait for your answer')
    .option('--wait <ms>', 'how long to wait for the relay (default 5000)', (v) => positiveInt(v, '--wait'), 5000)
    .addHelpText(
      'after',
      '\n--json prints one JSON array of {"id","name","relays","receivedAt","safetyNumber"}.\nAnswer with `parley accept <who>` or `parley decline <who> [--block]`.',
    )
    .action(async (opts: { wait: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        await withMessenger(ctx, opts.wait, async (messenger) => {
          const list = await Promise.all(messenger.requests().map((r) => withSafety(messenger, r)));
          if (ctx.out.json) {
            ctx.out.record(list);
            return;
          }
          if (list.length === 0) {
            ctx.out.line('no contact requests');
            return;
          }
          for (const r of list) {
            ctx.out.line(`${describeContact(r)} wants to connect (${new Date(r.receivedAt).toISOString()})`);
            ctx.out.line(`  safety number:\n${indent(safetyLines(r.safetyNumber))}`);
          }
          ctx.out.line('\nanswer with `parley accept <who>` or `parley decline <who> [--block]`');
        });
      });
    });

  program
    .command('accept')
    .description('accept a contact request: you become contacts and see each other online')
    .argument('<who>', 'their display name or an id prefix (see `parley requests`)')
    .option('--wait <ms>', 'how long to wait for the relay (default 5000)', (v) => positiveInt(v, '--wait'), 5000)
    .addHelpText('after', '\n--json prints {"id","name","accepted":true}.')
    .action(async (who: string, opts: { wait: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        await withMessenger(ctx, opts.wait, async (messenger) => {
          const r = resolveRequest(messenger.requests(), who);
          const c = await messenger.acceptRequest(r.id);
          ctx.out.result(`accepted ${describeContact(c)}; you are contacts now`, {
            id: c.id,
            name: c.name,
            accepted: true,
          });
        });
      });
    });

  program
    .command('decline')
    .description('decline a contact request (they are not told); --block also refuses every later request from them')
    .argument('<who>', 'their display name or an id prefix (see `parley requests`)')
    .option('--block', 'never show requests from them again')
    .option('--wait <ms>', 'how long to wait for the relay (default 5000)', (v) => positiveInt(v, '--wait'), 5000)
    .addHelpText('after', '\n--json prints {"id","name","declined":true,"blocked"}.')
    .action(async (who: string, opts: { block?: boolean; wait: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        await withMessenger(ctx, opts.wait, async (messenger) => {
          const r = resolveRequest(messenger.requests(), who);
          if (opts.block) await messenger.blockRequest(r.id);
          else await messenger.declineRequest(r.id);
          ctx.out.result(`${opts.block ? 'blocked' : 'declined'} ${describeContact(r)}`, {
            id: r.id,
            name: r.name,
            declined: true,
            blocked: Boolean(opts.block),
          });
        });
      });
    });
}

async function withSafety(messenger: Messenger, r: ContactRequestView): Promise<RequestJson> {
  return {
    id: r.id,
    name: r.name,
    relays: r.relays,
    receivedAt: r.receivedAt,
    safetyNumber: await messenger.safetyNumber(r.id),
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Same rules as contacts: a full id, else a unique name or id prefix, else a unique name ignoring case. */
export function resolveRequest(list: readonly ContactRequestView[], query: string): ContactRequestView {
  const q = query.trim();
  if (q === '') throw new UsageError('<who> is empty: give a display name or an id prefix');
  const exact = list.find((r) => r.id === q);
  if (exact) return exact;
  let matches = list.filter((r) => r.name === q || r.id.startsWith(q));
  if (matches.length === 0) matches = list.filter((r) => r.name.toLowerCase() === q.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new UsageError(`no contact request matches "${q}" (see \`parley requests\`)`);
  throw new UsageError(
    `"${q}" matches ${matches.length} requests; use a longer id prefix:\n${matches.map((r) => `  ${r.name || '(no name)'}  ${r.id}`).join('\n')}`,
  );
}

/** Opens the Messenger, lets the relay hand over waiting mail (bounded by waitMs), runs fn, closes. */
async function withMessenger(ctx: ActionContext, waitMs: number, fn: (m: Messenger) => Promise<void>): Promise<void> {
  const { messenger } = await openOnline(ctx);
  try {
    if (!(await awaitRelayMail(messenger, waitMs))) {
      ctx.out.note(
        `note: could not reach the relay ${messenger.relayState().url ?? '(none configured)'} within ${waitMs} ms; showing requests received earlier`,
      );
    }
    await fn(messenger);
  } finally {
    await messenger.close();
  }
}
