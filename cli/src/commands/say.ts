// `parley say`: send one message and wait for the contact's acknowledgement.
import type { Command } from 'commander';
import type { ChatMessage, Contact, RelayState } from '../../../core/src/api.js';
import { MAX_TEXT_CHARS } from '../../../core/src/chat/index.js';
import { openOnline } from '../engine.js';
import { CliError, UsageError } from '../errors.js';
import { describeContact } from '../resolve-contact.js';
import { relayProblem } from '../relay-diagnosis.js';
import { withHome } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { positiveInt } from './contacts.js';

export interface SayJson {
  type: 'delivered';
  id: string;
  to: string;
  name: string;
  text: string;
  sentAt: number;
  /** ms from send to acknowledgement. */
  deliveredMs: number;
  path: string;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerSay(program: Command): void {
  program
    .command('say')
    .description('send one message and wait until the contact acknowledges it')
    .argument('<contact>', 'display name or id prefix')
    .argument('<text...>', 'the message (several words are joined by spaces); "-" reads it from stdin')
    .option(
      '--timeout <seconds>',
      'give up waiting for the acknowledgement after this long',
      (v) => positiveInt(v, '--timeout'),
      30,
    )
    .addHelpText(
      'after',
      `
Exits 0 once delivered. If the contact does not acknowledge in time, exits 1; the message stays in
your outbox and is delivered (exactly once) the next time parley runs online - e.g. \`parley listen\` -
while the contact is online.
--json prints {"type":"delivered","id","to","name","text","sentAt","deliveredMs","path"}.`,
    )
    .action(async (query: string, words: string[], opts: { timeout: number }, cmd: Command) => {
      let text = words.join(' ');
      if (text === '-') text = await readStdin();
      if (text.length === 0) throw new UsageError('the message is empty');
      if (text.length > MAX_TEXT_CHARS) throw new UsageError(`the message is longer than ${MAX_TEXT_CHARS} characters`);
      await withHome(cmd, async (ctx) => {
        const { messenger, resolve } = await openOnline(ctx);
        const shutdown = watchShutdown();
        try {
          const contact = await resolve(query);
          const result = await sendAndWait(messenger, contact, text, opts.timeout * 1000, shutdown.signal);
          ctx.out.result(
            `delivered to ${describeContact(contact)} in ${result.deliveredMs} ms (${result.path})`,
            result,
          );
        } finally {
          shutdown.dispose();
          await messenger.close({ drain: true });
        }
      });
    });
}

type MessengerLike = Awaited<ReturnType<typeof openOnline>>['messenger'];

async function sendAndWait(
  messenger: MessengerLike,
  contact: Contact,
  text: string,
  timeoutMs: number,
  abort: AbortSignal,
): Promise<SayJson> {
  let relay: { state: RelayState; error?: string } = messenger.relayState();
  let online = contact.online;
  let lastError: string | undefined;
  const statuses = new Map<string, ChatMessage>();
  let wake: () => void = () => undefined;
  const offs = [
    messenger.on('message', (m) => {
      if (m.direction === 'out' && m.contactId === contact.id) {
        statuses.set(m.id, m);
        wake();
      }
    }),
    messenger.on('relay', (r) => (relay = r)),
    messenger.on('contact', (c) => {
      if (c.id === contact.id) online = c.online;
    }),
    messenger.on('error', (e) => {
      if (e.contactId === contact.id) lastError = e.message;
    }),
  ];
  const started = Date.now();
  try {
    const sent = await messenger.send(contact.id, text);
    const outcome = await new Promise<'delivered' | 'failed' | 'timeout' | 'aborted'>((resolve) => {
      const check = (): void => {
        const s = statuses.get(sent.id)?.status;
        // 'read' can overtake 'delivered' (both mean the contact stored it).
        if (s === 'delivered' || s === 'read' || s === 'failed') finish(s === 'read' ? 'delivered' : s);
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const onAbort = (): void => finish('aborted');
      abort.addEventListener('abort', onAbort);
      function finish(r: 'delivered' | 'failed' | 'timeout' | 'aborted'): void {
        clearTimeout(timer);
        abort.removeEventListener('abort', onAbort);
        wake = () => undefined;
        resolve(r);
      }
      wake = check;
      check();
    });
    if (outcome === 'delivered') {
      return {
        type: 'delivered',
        id: sent.id,
        to: contact.id,
        name: contact.name,
        text,
        sentAt: sent.sentAt,
        deliveredMs: Date.now() - started,
        path: messenger.pathOf(contact.id),
      };
    }
    const who = describeContact(contact);
    let why: string;
    if (outcome === 'aborted') why = 'interrupted before the acknowledgement';
    else if (outcome === 'failed') why = `sending failed${lastError ? `: ${safeText(lastError)}` : ''}`;
    else if (relay.state !== 'online')
      why = `could not reach the relay${relay.error ? ` (${safeText(relayProblem(relay.error))})` : ''} within ${timeoutMs / 1000} s`;
    else if (!online) why = `${who} is offline`;
    else why = `${who} did not acknowledge within ${timeoutMs / 1000} s${lastError ? ` (${safeText(lastError)})` : ''}`;
    throw new CliError(
      `not delivered: ${why}.\nThe message stays in your outbox and will be delivered the next time parley runs online (e.g. \`parley listen\`) while ${who} is online.`,
    );
  } finally {
    for (const off of offs) off();
  }
}
