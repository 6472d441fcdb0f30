// Contact book commands that need no network: add, safety, verify, remove; and `contacts`, which
// connects briefly to learn who is online unless --offline.
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { Contact } from '../../../core/src/api.js';
import { InviteError, parseInvite, safetyNumbersMatch } from '../../../core/src/identity/index.js';
import { ContactStore } from '../../../core/src/contacts/store.js';
import { openOffline, openOnline } from '../engine.js';
import { awaitRelayMail } from '../mail.js';
import { CliError, UsageError } from '../errors.js';
import { describeContact, shortId } from '../resolve-contact.js';
import { withHome } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';

export interface ContactJson {
  id: string;
  name: string;
  relays: string[];
  /** null when not known (--offline, or the relay could not be reached in time). */
  online: boolean | null;
  verified: boolean;
  path: string;
  addedAt: number;
  unread: number;
  lastMessageAt: number | null;
  /** "waiting": they have not accepted our contact request yet. */
  status: 'accepted' | 'waiting';
}

/** Safety number as three lines of four groups, the layout people compare aloud. */
export function safetyLines(n: string): string {
  const groups = n.split(' ');
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 4) lines.push(groups.slice(i, i + 4).join(' '));
  return lines.join('\n');
}

export function registerContactCommands(program: Command): void {
  program
    .command('add')
    .description('send a contact request to the person whose invite link this is (parley://invite?...); they accept it')
    .argument('<invite>', 'the invite link; quote it in the shell')
    .option(
      '--wait <ms>',
      'how long to wait for the relay to take the request (default 5000); later, it goes at the next connect',
      (v) => positiveInt(v, '--wait'),
      5000,
    )
    .addHelpText(
      'after',
      '\n--json prints {"id","name","relays","verified","added","status"} (added: false when the contact was already known;\nstatus: "waiting" until they accept, "accepted" when they had asked you too).',
    )
    .action(async (invite: string, opts: { wait: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const book = await openOffline(ctx);
        let parsed;
        try {
          parsed = await parseInvite(invite);
        } catch (err) {
          if (err instanceof InviteError) throw new UsageError(err.message);
          throw err;
        }
        if (parsed.id === book.identity.id) throw new UsageError('that invite is your own');
        const existed = book.contacts.has(parsed.id);
        const { contact: c, sent } = await addOnline(ctx, invite, opts.wait);
        if (c.relays.length === 0)
          ctx.out.note(`warning: ${describeContact(c)}'s invite names no relay; you can reach them only through yours`);
        if (!sent)
          ctx.out.note(
            'note: the relay did not take the request in time; it goes out the next time parley connects (listen, chat, say, contacts)',
          );
        const what =
          c.status === 'waiting'
            ? `${existed ? 'asked' : 'sent a contact request to'} ${describeContact(c)}: waiting for them to accept`
            : `${existed ? 'updated' : 'added'} ${describeContact(c)}`;
        ctx.out.result(
          `${what}\ncompare safety numbers with \`parley safety ${c.name ? safeText(JSON.stringify(c.name)) : shortId(c.id)}\``,
          {
            id: c.id,
            name: c.name,
            relays: c.relays,
            verified: c.verified,
            added: !existed,
            status: c.status,
          },
        );
      });
    });

  program
    .command('contacts')
    .description('list contacts: name, id, online, verified, path')
    .option('--offline', 'do not connect to learn who is online')
    .option(
      '--wait <ms>',
      'how long to wait for the relays to answer (default 5000)',
      (v) => positiveInt(v, '--wait'),
      5000,
    )
    .addHelpText(
      'after',
      '\n--json prints one JSON array of {"id","name","relays","online","verified","path","addedAt","unread","lastMessageAt","status"}; online is null when unknown;\nstatus is "waiting" until they accept your contact request.',
    )
    .action(async (opts: { offline?: boolean; wait: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        let list: ContactJson[];
        if (opts.offline) {
          const book = await openOffline(ctx);
          list = [];
          for (const c of book.contacts.list()) {
            const s = await book.chat.summary(c.id);
            list.push({
              id: c.id,
              name: c.name,
              relays: c.relays,
              online: null,
              verified: c.verified,
              path: 'none',
              addedAt: c.addedAt,
              ...s,
              status: c.status ?? 'accepted',
            });
          }
        } else {
          list = await contactsWithPresence(ctx, opts.wait);
        }
        if (ctx.out.json) {
          ctx.out.record(list);
          return;
        }
        if (list.length === 0) {
          ctx.out.line('no contacts yet: add one with `parley add <invite>`');
          return;
        }
        const rows = list.map((c) => [
          c.name ? safeText(c.name) : '(no name)',
          shortId(c.id),
          c.status === 'waiting'
            ? 'waiting for them to accept'
            : c.online === null
              ? '?'
              : c.online
                ? 'online'
                : 'offline',
          c.verified ? 'verified' : '-',
          c.path,
        ]);
        const head = ['NAME', 'ID', 'ONLINE', 'VERIFIED', 'PATH'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [head, ...rows])
          ctx.out.line(
            r
              .map((cell, i) => cell.padEnd(widths[i]!))
              .join('  ')
              .trimEnd(),
          );
      });
    });

  program
    .command('safety')
    .description('print the safety number you and a contact should both see; compare it in person or on a call')
    .argument('<contact>', 'display name or id prefix')
    .addHelpText('after', '\n--json prints {"id","name","safetyNumber","verified"}.')
    .action(async (query: string, _opts: unknown, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const book = await openOffline(ctx);
        const c = book.resolve(query);
        const n = await book.contacts.safetyNumber(c.id, book.identity.publicKey);
        ctx.out.result(
          `safety number with ${describeContact(c)}${c.verified ? ' (verified)' : ''}:\n\n${safetyLines(n)}\n`,
          {
            id: c.id,
            name: c.name,
            safetyNumber: n,
            verified: c.verified,
          },
        );
      });
    });

  program
    .command('verify')
    .description('mark a contact as verified after comparing safety numbers')
    .argument('<contact>', 'display name or id prefix')
    .argument(
      '[number...]',
      'the safety number they read to you (60 digits, spaces allowed); without it, asks on a terminal',
    )
    .option('--undo', 'mark the contact as not verified')
    .addHelpText('after', '\nExits 1 when the number given does not match. --json prints {"id","name","verified"}.')
    .action(async (query: string, number: string[], opts: { undo?: boolean }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const book = await openOffline(ctx);
        const c = book.resolve(query);
        if (!opts.undo) {
          const expected = await book.contacts.safetyNumber(c.id, book.identity.publicKey);
          if (number.length > 0) {
            if (!safetyNumbersMatch(expected, number.join(''))) {
              throw new CliError(
                `the safety number does not match the one for ${describeContact(c)}; not verified. Someone may be impersonating them, or the number was mistyped.`,
              );
            }
          } else if (process.stdin.isTTY && process.stdout.isTTY && !ctx.out.json) {
            ctx.out.line(`safety number with ${describeContact(c)}:\n\n${safetyLines(expected)}\n`);
            const rl = createInterface({ input: process.stdin, output: process.stdout });
            const shutdown = watchShutdown();
            try {
              const answer = await rl.question('Does it match what they see? [y/N] ', { signal: shutdown.signal });
              if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not verified');
            } catch (err) {
              if (err instanceof CliError) throw err;
              throw new CliError('not verified');
            } finally {
              rl.close();
              shutdown.dispose();
            }
          } else {
            throw new UsageError('give the safety number they read to you: parley verify <contact> <number>');
          }
        }
        const updated = await book.contacts.setVerified(c.id, !opts.undo);
        ctx.out.result(`${describeContact(updated)} is ${updated.verified ? 'verified' : 'not verified'}`, {
          id: updated.id,
          name: updated.name,
          verified: updated.verified,
        });
      });
    });

  program
    .command('remove')
    .description('remove a contact and your conversation with them (unsent messages are dropped)')
    .argument('<contact>', 'display name or id prefix')
    .addHelpText('after', '\n--json prints {"id","name","removed":true}.')
    .action(async (query: string, _opts: unknown, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const book = await openOffline(ctx);
        const c = book.resolve(query);
        await book.contacts.remove(c.id);
        await book.chat.forget(c.id);
        ctx.out.result(`removed ${describeContact(c)}`, { id: c.id, name: c.name, removed: true });
      });
    });
}

export function positiveInt(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${name} must be a positive whole number (got "${value}")`);
  }
  return Number(value);
}

/**
 * Adds through the Messenger, which leaves the signed request in their relay mailbox (or accepts theirs).
 * `sent`: false when the relay did not confirm within `waitMs` (the contact is stored as waiting anyway).
 */
async function addOnline(
  ctx: Parameters<Parameters<typeof withHome>[1]>[0],
  invite: string,
  waitMs: number,
): Promise<{ contact: Contact; sent: boolean }> {
  const started = Date.now();
  const { messenger } = await openOnline(ctx);
  let contact: Contact;
  try {
    // Their request may be waiting in our mailbox: then adding them accepts it (mutual invites, no prompt).
    const reached = await awaitRelayMail(messenger, waitMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const adding = messenger.addContact(invite);
    // Relay not reached: the request is stored and goes at the next connect; no second wait.
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), reached ? waitMs : 0)));
    const first = await Promise.race([adding, timedOut]);
    clearTimeout(timer);
    // Timed out: closing fails the request held for the relay; it stays stored and goes at the next connect.
    if (first === null) await messenger.close();
    contact = first ?? (await adding);
  } finally {
    await messenger.close();
  }
  const stored = (await ContactStore.open(ctx.home.store, ctx.logger)).get(contact.id);
  const sent = stored?.status !== 'waiting' || (stored.requestSentAt ?? 0) >= started;
  return { contact: { ...contact, status: stored?.status ?? contact.status }, sent };
}

/** After a relay comes online it answers our subscriptions at once; an offline contact yields no event, so allow this long. */
const PRESENCE_SETTLE_MS = 1000;

/** Connects, waits for the relay's presence answers (bounded by `waitMs`), and lists. */
async function contactsWithPresence(
  ctx: Parameters<Parameters<typeof withHome>[1]>[0],
  waitMs: number,
): Promise<ContactJson[]> {
  const online = await openOnline(ctx);
  const { messenger } = online;
  try {
    const initial = await messenger.contacts();
    let relayReached = messenger.relayState().state === 'online';
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      let settle: ReturnType<typeof setTimeout> | undefined;
      const startSettle = (): void => {
        relayReached = true;
        settle ??= setTimeout(done, Math.min(PRESENCE_SETTLE_MS, waitMs));
      };
      const offs = [
        messenger.on('relay', (r) => {
          if (r.state === 'online') startSettle();
        }),
        messenger.on('contact', async () => {
          // Everyone online: nothing more to learn.
          if ((await messenger.contacts()).every((c) => c.online)) done();
        }),
      ];
      function done(): void {
        clearTimeout(timer);
        if (settle) clearTimeout(settle);
        for (const off of offs) off();
        resolve();
      }
      if (initial.length === 0) done();
      else if (relayReached) startSettle();
    });
    const final: Contact[] = await messenger.contacts();
    const state = messenger.relayState();
    if (!relayReached)
      ctx.out.note(
        `note: could not reach the relay ${state.url ?? '(none configured)'} within ${waitMs} ms; online status unknown`,
      );
    return final.map((c) => ({
      id: c.id,
      name: c.name,
      relays: c.relays,
      // A contact reported online is known online even if another relay failed; otherwise only a reached relay knows.
      online: c.online ? true : relayReached ? false : null,
      verified: c.verified,
      path: c.path,
      addedAt: c.addedAt,
      unread: c.unread,
      lastMessageAt: c.lastMessageAt,
      status: c.status,
    }));
  } finally {
    await messenger.close();
  }
}
