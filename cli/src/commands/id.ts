// `parley id`: create the identity on first use, update name/relays, print the invite (and a QR code).
import type { Command } from 'commander';
import {
  createInvite,
  IdentityStoreError,
  InviteError,
  loadOrCreateIdentity,
  updateProfile,
  type LocalIdentity,
} from '../../../core/src/identity/index.js';
import { CliError, UsageError } from '../errors.js';
import { inviteQr } from '../qr.js';
import { safeText } from '../terminal.js';
import { withHome, type ActionContext } from '../run.js';

export interface IdJson {
  id: string;
  name: string;
  invite: string;
  relays: string[];
}

/** Loads the identity or explains how to create one. Used by every command that needs it. */
export async function requireIdentity(ctx: ActionContext): Promise<LocalIdentity> {
  const stored = await ctx.home.identityStore.load();
  if (stored === undefined) {
    throw new UsageError(
      `no identity in ${ctx.home.dir} yet: create one with \`parley id --name NAME --relay ws://HOST:PORT/ws\``,
    );
  }
  try {
    return await loadOrCreateIdentity(ctx.home.identityStore, { name: '', relays: [], extractable: true });
  } catch (err) {
    if (err instanceof IdentityStoreError) throw new CliError(`${ctx.home.identityStore.path}: ${err.message}`);
    throw err;
  }
}

export function registerId(program: Command): void {
  program
    .command('id')
    .description('show your identity and invite; creates the identity on first use')
    .option('--name <name>', 'display name (required the first time; changes it later)')
    .option('--qr', 'print the QR code even when stdout is not a terminal')
    .option('--no-qr', 'never print the QR code')
    .addHelpText(
      'after',
      `
The global --relay URL (repeatable) sets the relays named in your invite.
--json prints {"id","name","invite","relays"}.`,
    )
    .action(async (opts: { name?: string; qr?: boolean }, cmd: Command) => {
      await withHome(cmd, async (ctx) => {
        const { globals, out } = ctx;
        const exists = (await ctx.home.identityStore.load()) !== undefined;
        let identity: LocalIdentity;
        if (!exists) {
          if (opts.name === undefined || opts.name.trim() === '') {
            throw new UsageError(`no identity in ${ctx.home.dir} yet: give a display name with --name NAME`);
          }
          try {
            identity = await loadOrCreateIdentity(ctx.home.identityStore, {
              name: opts.name,
              relays: globals.relays,
              extractable: true,
            });
          } catch (err) {
            if (err instanceof IdentityStoreError) throw new UsageError(err.message);
            throw err;
          }
          out.note(`created a new identity in ${ctx.home.dir}`);
        } else {
          identity = await requireIdentity(ctx);
          const changes: { name?: string; relays?: string[] } = {};
          if (opts.name !== undefined && opts.name !== identity.name) changes.name = opts.name;
          if (globals.relays.length > 0 && globals.relays.join(' ') !== identity.relays.join(' '))
            changes.relays = globals.relays;
          if (changes.name !== undefined || changes.relays !== undefined) {
            try {
              identity = await updateProfile(ctx.home.identityStore, identity, changes);
            } catch (err) {
              if (err instanceof IdentityStoreError) throw new UsageError(err.message);
              throw err;
            }
          }
        }
        if (identity.relays.length === 0) {
          out.note(
            'warning: your invite names no relay, so contacts cannot reach you; set one with `parley id --relay ws://HOST:PORT/ws`',
          );
        }
        let invite: string;
        try {
          invite = createInvite({ publicKey: identity.publicKey, name: identity.name, relays: identity.relays });
        } catch (err) {
          if (err instanceof InviteError) throw new CliError(err.message);
          throw err;
        }
        const json: IdJson = { id: identity.id, name: identity.name, invite, relays: identity.relays };
        if (out.json) {
          out.record(json);
          return;
        }
        out.line(`name:   ${identity.name ? safeText(identity.name) : '(none)'}`);
        out.line(`id:     ${identity.id}`);
        out.line(`relays: ${identity.relays.join(' ') || '(none)'}`);
        out.line('');
        out.line(invite);
        if (opts.qr ?? out.tty) {
          out.line('');
          out.raw(await inviteQr(invite));
        }
      });
    });
}
