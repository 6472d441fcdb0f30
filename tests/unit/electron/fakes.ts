// Stand-ins for the Electron objects the pure main-process modules take as parameters.
import type { FrameLike, InvokeEventLike, IpcMainLike, SenderLike } from '../../../electron/main/ipc.js';

export const APP_URL = 'app://parley/index.html';

export class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    public readonly parent: FakeFrame | null,
    public readonly processId: number,
    public readonly routingId: number,
  ) {}
}

export class FakeWebContents implements SenderLike {
  readonly mainFrame: FakeFrame;
  readonly subFrame: FakeFrame;
  constructor(
    readonly id: number,
    url = APP_URL,
  ) {
    this.mainFrame = new FakeFrame(url, null, 100 + id, 1);
    this.subFrame = new FakeFrame(url, this.mainFrame, 100 + id, 2);
  }
  /** An invoke event as Electron builds it; `frame` defaults to the main frame. */
  event(frame: FakeFrame | null = this.mainFrame): InvokeEventLike {
    return { sender: this, senderFrame: frame };
  }
}

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /**
   * What ipcRenderer.invoke does: structured-clone the arguments (as Electron's IPC serializes them),
   * run the handler, and hand back a clone of its result or its rejection.
   */
  async invoke(event: InvokeEventLike, channel: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    const result = await h(event, ...structuredClone(args));
    return result === undefined ? undefined : structuredClone(result);
  }
}
