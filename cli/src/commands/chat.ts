// `parley chat`: an interactive conversation with one contact on a terminal (or lines from a pipe).
import type { Command } from 'commander';
import { createInterface, clearLine, cursorTo, type Interface } from 'node:readline';
import type { ChatMessage } from '../../../core/src/api.js';
import { MAX_TEXT_CHARS } from '../../../core/src/chat/index.js';
import { openOnline } from '../engine.js';
import { CliError } from '../errors.js';
import { formatTime } from '../format.js';
import { describeContact } from '../resolve-contact.js';
import { withHome } from '../run.js';
import { safeOutput, safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { positiveInt } from './contacts.js';
import { messageJson } from './listen.js';

const TICK: Record<ChatMessage['status'], string> = {
  queued: '…',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓ read',
  failed: '✗',
};

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('chat with a contact interactively: type a line to send it; /quit to leave')
    .argument('<contact>', 'display name or id prefix')
    .option('--history <n>', 'how many earlier messages to show', (v) => positiveInt(v, '--history'), 20)
    .option(
      '--timeout <seconds>',
      'at the end of piped input, wait this long for acknowledgements',
      (v) => positiveInt(v, '--timeout'),
      30,
    )
    .addHelpText(
      'after',
      `
Commands: /quit (or Ctrl-D), /path (direct, relay or none), /help.
Marks: … queued (contact offline), ✓ sent, ✓✓ delivered (the contact acknowledged it).
With stdin not a terminal, each line read is sent; at end of input chat waits (up to --timeout) until
everything is delivered, exiting 1 if something was not (it stays in the outbox).
--json prints JSON lines: {"type":"message",...} incoming, {"type":"status","id","status"} for yours,
{"type":"path","path"}, {"type":"presence","online"}.`,
    )
    .action(async (query: string, opts: { history: number; timeout: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const { out } = ctx;
        const shutdown = watchShutdown();
        const { messenger, resolve } = await openOnline(ctx);
        let rl: Interface | undefined;
        try {
          const contact = await resolve(query);
          const who = contact.name ? safeText(contact.name) : describeContact(contact);
          const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !out.json;
          // Read before the input is opened: from createInterface on, no await may come before the 'line' and
          // 'close' listeners below, or piped input (and its end) is lost while we wait.
          const earlier = await messenger.history(contact.id, { limit: opts.history });
          rl = createInterface({
            input: process.stdin,
            output: interactive ? process.stdout : undefined,
            terminal: interactive,
          });
          const r = rl;
          // Prints above the prompt without eating what the user is typing.
          const show = (text: string): void => {
            if (!interactive) {
              out.line(text);
              return;
            }
            clearLine(process.stdout, 0);
            cursorTo(process.stdout, 0);
            process.stdout.write(safeOutput(text) + '\n');
            r.prompt(true);
          };
          const line = (m: ChatMessage): string =>
            m.direction === 'in'
              ? `${formatTime(m.sentAt)} ${who}: ${safeText(m.text)}`
              : `${formatTime(m.sentAt)} me: ${safeText(m.text)}  ${TICK[m.status]}`;

          for (const m of earlier) show(line(m));
          if (interactive) show(`-- chatting with ${describeContact(contact)}; /help for commands`);

          const mine = new Map<string, ChatMessage>();
          let settled: () => void = () => undefined;
          messenger.on('message', (m) => {
            if (m.contactId !== contact.id) return;
            if (m.direction === 'in') {
              if (out.json) out.record(messageJson(m, contact.name));
              else show(line(m));
              void messenger.markRead(contact.id).catch(() => undefined);
              return;
            }
            const before = mine.get(m.id);
            mine.set(m.id, m);
            if (out.json) out.record({ type: 'status', id: m.id, status: m.status, text: m.text });
            else if (before && before.status !== m.status && m.status !== 'sent')
              show(`${' '.repeat(9)}${TICK[m.status]} ${m.status}: ${safeText(m.text.slice(0, 50))}`);
            settled();
          });
          let lastOnline = contact.online;
          messenger.on('contact', (c) => {
            if (c.id !== contact.id || c.online === lastOnline) return;
            lastOnline = c.online;
            if (out.json) out.record({ type: 'presence', online: c.online });
            else show(`-- ${who} is ${c.online ? 'online' : 'offline'}`);
          });
          messenger.on('path', (p) => {
            if (p.contactId !== contact.id) return;
            if (out.json) out.record({ type: 'path', path: p.path });
            else show(`-- path: ${p.path}`);
          });
          messenger.on('error', (e) => {
            if (e.contactId === contact.id && !out.json) show(`-- error: ${safeText(e.message)}`);
          });

          const inFlight: Promise<void>[] = [];
          rl.setPrompt('> ');
          if (interactive) rl.prompt();
          const ended = new Promise<'eof' | 'quit'>((resolveEnd) => {
            r.on('close', () => resolveEnd('eof'));
            r.on('line', (input) => {
              const text = input.trimEnd();
              if (text === '/quit' || text === '/exit') return resolveEnd('quit');
              if (text === '/path') show(`-- path: ${messenger.pathOf(contact.id)}`);
              else if (text === '/help') show('-- /quit leave, /path show the path in use; anything else is sent');
              else if (text.length > MAX_TEXT_CHARS) show(`-- not sent: longer than ${MAX_TEXT_CHARS} characters`);
              else if (text.length > 0) {
                // Interactive: the typed line is already on screen; replace it with the timestamped one.
                if (interactive) {
                  process.stdout.write('\x1b[1A');
                  clearLine(process.stdout, 0);
                }
                const sending = messenger.send(contact.id, text).then(
                  (m) => {
                    mine.set(m.id, m);
                    if (out.json) out.record({ type: 'status', id: m.id, status: m.status, text: m.text });
                    else show(line(m));
                  },
                  (err: unknown) => show(`-- not sent: ${(err as Error).message}`),
                );
                inFlight.push(sending);
              }
              if (interactive) r.prompt();
            });
          });
          const how = await Promise.race([ended, shutdown.requested.then(() => 'quit' as const)]);
          if (how === 'eof' && !interactive) {
            // Piped input: wait for the acknowledgements, like `say`.
            await Promise.all(inFlight);
            const pending = (): ChatMessage[] =>
              [...mine.values()].filter((m) => m.status !== 'delivered' && m.status !== 'read');
            await new Promise<void>((done) => {
              const timer = setTimeout(done, opts.timeout * 1000);
              settled = () => {
                if (pending().length === 0) {
                  clearTimeout(timer);
                  done();
                }
              };
              shutdown.signal.addEventListener('abort', () => (clearTimeout(timer), done()));
              settled();
            });
            const left = pending().length;
            if (left > 0) {
              throw new CliError(
                `${left} message(s) not delivered yet; they stay in your outbox and go the next time parley runs online while ${who} is online`,
              );
            }
          }
        } finally {
          rl?.close();
          shutdown.dispose();
          await messenger.close({ drain: true });
        }
      });
    });
}
