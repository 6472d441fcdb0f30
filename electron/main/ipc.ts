// A validated IPC registry in the spirit of VS Code's validatedIpcMain: every handler is registered with
// a zod schema for its argument list, and no handler runs unless
//   1. the sending frame still exists, is the main frame of its webContents, and shows app://parley;
//   2. the webContents is one the app created for its window (not a stray one);
//   3. the arguments match the schema exactly.
// A refusal rejects the renderer's invoke with a clear message; nothing throws into the main process.
import type { z } from 'zod';
import { isAppUrl } from './app-origin.js';

/** The parts of Electron's WebFrameMain the checks read. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
  readonly processId: number;
  readonly routingId: number;
}

/** The parts of Electron's WebContents the checks and handlers read. */
export interface SenderLike {
  readonly id: number;
  readonly mainFrame: FrameLike;
}

/** The parts of Electron's IpcMainInvokeEvent the registry reads. */
export interface InvokeEventLike {
  readonly sender: SenderLike;
  readonly senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export class IpcRejection extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(`${channel}: ${reason}`);
    this.name = 'IpcRejection';
  }
}

export type SenderCheck = { ok: true } | { ok: false; reason: string };

export function checkSender(event: InvokeEventLike, isAppWebContents: (sender: SenderLike) => boolean): SenderCheck {
  const frame = event.senderFrame;
  // null: the frame navigated away or was destroyed between send and handling.
  if (frame === null || frame === undefined) return { ok: false, reason: 'sender frame is gone' };
  const main = event.sender.mainFrame;
  const isMain =
    frame.parent === null &&
    (frame === main || (frame.processId === main.processId && frame.routingId === main.routingId));
  if (!isMain) return { ok: false, reason: 'sender is not the main frame' };
  if (!isAppUrl(frame.url)) return { ok: false, reason: 'sender is not the app origin' };
  if (!isAppWebContents(event.sender)) return { ok: false, reason: 'sender is not the app window' };
  return { ok: true };
}

export interface HandlerContext {
  sender: SenderLike;
}

export interface ValidatedIpc {
  handle<S extends z.ZodType<unknown[]>>(
    channel: string,
    schema: S,
    handler: (ctx: HandlerContext, ...args: z.output<S>) => unknown,
  ): void;
  dispose(): void;
  readonly channels: readonly string[];
}

export interface ValidatedIpcDeps {
  ipcMain: IpcMainLike;
  isAppWebContents(sender: SenderLike): boolean;
  /** Audit log of refusals; handlers' own errors are passed to the renderer as rejections. */
  onRejected?(channel: string, reason: string): void;
}

/** Longest part of a validation message echoed to the renderer. */
const MAX_REASON_LENGTH = 500;

export function createValidatedIpc(deps: ValidatedIpcDeps): ValidatedIpc {
  const channels: string[] = [];
  const reject = (channel: string, reason: string): never => {
    deps.onRejected?.(channel, reason);
    throw new IpcRejection(channel, reason.slice(0, MAX_REASON_LENGTH));
  };
  return {
    handle(channel, schema, handler) {
      if (channels.includes(channel)) throw new Error(`IPC channel ${channel} registered twice`);
      channels.push(channel);
      deps.ipcMain.handle(channel, async (event, ...args) => {
        const sender = checkSender(event, deps.isAppWebContents);
        if (!sender.ok) return reject(channel, sender.reason);
        const parsed = schema.safeParse(args);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ');
          return reject(channel, `invalid arguments (${issues})`);
        }
        return handler({ sender: event.sender }, ...(parsed.data as z.output<typeof schema>));
      });
    },
    dispose() {
      for (const c of channels.splice(0)) deps.ipcMain.removeHandler(c);
    },
    get channels() {
      return [...channels];
    },
  };
}
