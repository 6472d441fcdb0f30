// `parley listen`: stay online, print incoming messages, deliver the outbox, until SIGINT/SIGTERM.
import type { Command } from 'commander';
import type { ChatMessage } from '../../../core/src/api.js';
import { openOnline } from '../engine.js';
import { formatTime } from '../format.js';
import { describeContact } from '../resolve-contact.js';
import { relayProblem } from '../relay-diagnosis.js';
import { withHome } from '../run.js';
import { safeText } from '../terminal.js';
import { watchShutdown } from '../signals.js';
import { positiveInt } from './contacts.js';

export interface IncomingJson {
  type: 'message';
  id: string;
  from: string;
  name: string;
  text: string;
  sentAt: number;
  at: number;
  seq: number;
}

export function messageJson(m: ChatMessage, name: string): IncomingJson {
  return { type: 'message', id: m.id, from: m.contactId, name, text: m.text, sentAt: m.sentAt, at: m.at, seq: m.seq };
}

export function registerListen(program: Command): void {
  program
    .command('listen')
    .description('stay online: print incoming messages (each acknowledged to its sender) and deliver your outbox')
    .option(
      '--history <n>',
      "first print each contact's latest n messages (read from the end, not the whole history)",
      (v) => positiveInt(v, '--history'),
    )
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then closes gracefully (exit 0).
Text output: one line per message, "HH:MM:SS NAME: TEXT", on stdout; connection notes on stderr.
--json prints one JSON object per line:
  {"type":"message","id","from","name","text","sentAt","at","seq"}   an incoming message
  {"type":"delivered","id","to","name"}                              one of your messages was acknowledged
  {"type":"relay","state","url"}  {"type":"presence","id","name","online"}  {"type":"path","id","name","path"}
  {"type":"history","id","contact","name","direction","text","sentAt","at","seq"}  --history, oldest first
  {"type":"ready","id","name"}                                       once started`,
    )
    .action(async (opts: { history?: number }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const { out } = ctx;
        const shutdown = watchShutdown();
        const { messenger, identity } = await openOnline(ctx);
        try {
          const names = new Map<string, string>();
          const online = new Map<string, boolean>();
          for (const c of await messenger.contacts()) names.set(c.id, c.name);
          const nameOf = (id: string): string => names.get(id) ?? '';
          messenger.on('message', (m) => {
            if (m.direction === 'in') {
              out.result(
                `${formatTime(m.at)} ${describeContact({ id: m.contactId, name: nameOf(m.contactId) })}: ${safeText(m.text)}`,
                messageJson(m, nameOf(m.contactId)),
              );
            } else if (m.status === 'delivered') {
              out.record({ type: 'delivered', id: m.id, to: m.contactId, name: nameOf(m.contactId) });
              if (!out.json)
                out.note(
                  `delivered to ${describeContact({ id: m.contactId, name: nameOf(m.contactId) })}: ${safeText(m.text.slice(0, 60))}`,
                );
            }
          });
          messenger.on('contact', (c) => {
            names.set(c.id, c.name);
            if (online.get(c.id) !== c.online) {
              online.set(c.id, c.online);
              out.record({ type: 'presence', id: c.id, name: c.name, online: c.online });
              if (!out.json) out.note(`${describeContact(c)} is ${c.online ? 'online' : 'offline'}`);
            }
          });
          messenger.on('path', (p) => {
            out.record({ type: 'path', id: p.contactId, name: nameOf(p.contactId), path: p.path });
            if (!out.json)
              out.note(`${describeContact({ id: p.contactId, name: nameOf(p.contactId) })}: path ${p.path}`);
          });
          messenger.on('relay', (r) => {
            out.record({ type: 'relay', state: r.state, url: r.url, ...(r.error ? { error: r.error } : {}) });
            if (!out.json)
              out.note(
                `relay ${safeText(r.url ?? '')}: ${r.state}${r.error ? ` (${safeText(relayProblem(r.error))})` : ''}`,
              );
          });
          messenger.on('error', (e) => {
            out.record({ type: 'error', ...(e.contactId ? { id: e.contactId } : {}), message: e.message });
            if (!out.json)
              out.note(
                `error${e.contactId ? ` with ${describeContact({ id: e.contactId, name: nameOf(e.contactId) })}` : ''}: ${safeText(e.message)}`,
              );
          });
          if (opts.history !== undefined) {
            for (const c of await messenger.contacts()) {
              for (const m of await messenger.history(c.id, { limit: opts.history })) {
                const who = describeContact({ id: c.id, name: nameOf(c.id) });
                out.result(
                  `${formatTime(m.at)} ${m.direction === 'in' ? `${who}:` : `me → ${who}:`} ${safeText(m.text)}`,
                  {
                    type: 'history',
                    id: m.id,
                    contact: c.id,
                    name: nameOf(c.id),
                    direction: m.direction,
                    text: m.text,
                    sentAt: m.sentAt,
                    at: m.at,
                    seq: m.seq,
                  },
                );
              }
            }
          }
          out.record({ type: 'ready', id: identity.id, name: identity.name });
          if (!out.json) out.note(`listening as ${describeContact(identity)}; Ctrl-C to stop`);
          await shutdown.requested;
        } finally {
          shutdown.dispose();
          await messenger.close({ drain: true });
        }
      });
    });
}
