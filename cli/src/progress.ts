// Per-file progress for `parley send` / `receive`: redrawn bars on a terminal, plain lines otherwise.
import { bar, fitLeft, formatBytes, formatDuration, formatSpeed } from './format.js';
import { safeText } from './terminal.js';

export interface FileProgress {
  key: string;
  name: string;
  done: number;
  size: number;
  /** Bytes per second (smoothed by the engine). */
  speed: number;
  path: string;
}

/** One progress line: name, bar, percent, bytes, speed, ETA, path. */
export function progressLine(p: FileProgress, width: number): string {
  const fraction = p.size > 0 ? p.done / p.size : 1;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = p.speed > 0 ? ((p.size - p.done) / p.speed) * 1000 : null;
  const tail = ` ${pct} ${formatBytes(p.done)}/${formatBytes(p.size)} ${formatSpeed(p.speed)} ETA ${formatDuration(eta)} ${safeText(p.path)}`;
  const barWidth = Math.max(10, Math.min(30, width - tail.length - 24));
  const nameWidth = Math.max(8, width - tail.length - barWidth - 4);
  return `${fitLeft(safeText(p.name), nameWidth)} [${bar(fraction, barWidth)}]${tail}`.slice(0, width);
}

export interface ProgressSink {
  update(p: FileProgress): void;
  /** The file reached a final state; `summary` is printed as its last line. */
  finish(key: string, summary: string): void;
  /** Prints a line without breaking the bars. */
  log(text: string): void;
  close(): void;
}

/** Terminal: one live bar per active file, redrawn in place at most every `intervalMs`. */
export class TtyProgress implements ProgressSink {
  private readonly live = new Map<string, FileProgress>();
  private drawn = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {}

  update(p: FileProgress): void {
    this.live.set(p.key, p);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw([]);
    }, this.intervalMs);
  }

  finish(key: string, summary: string): void {
    this.live.delete(key);
    this.draw([summary]);
  }

  log(text: string): void {
    this.draw([text]);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draw([]);
  }

  /** Moves up over the live region, prints new permanent lines, then the bars again. */
  private draw(permanent: string[]): void {
    const width = Math.max(40, (this.stream.columns ?? 100) - 1);
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    // One terminal line each (the region's height is counted in lines), never a control sequence.
    for (const line of permanent) out += `\r\x1b[2K${safeText(line)}\n`;
    const bars = [...this.live.values()].map((p) => progressLine(p, width));
    for (const line of bars) out += `\r\x1b[2K${line}\n`;
    // Clear lines left over from a taller previous region.
    for (let i = bars.length + permanent.length; i < this.drawn; i++) out += '\r\x1b[2K\n';
    const extra = Math.max(0, this.drawn - bars.length - permanent.length);
    if (extra > 0) out += `\x1b[${extra}A`;
    this.drawn = bars.length;
    this.stream.write(out);
  }
}

/** Not a terminal: a line when a file starts, at every 25 %, and when it ends. */
export class PlainProgress implements ProgressSink {
  private readonly reported = new Map<string, number>();

  constructor(private readonly write: (line: string) => void) {}

  update(p: FileProgress): void {
    const quarter = p.size > 0 ? Math.floor((p.done / p.size) * 4) : 4;
    const last = this.reported.get(p.key);
    if (last !== undefined && quarter <= last) return;
    this.reported.set(p.key, quarter);
    if (quarter >= 4) return; // the final line comes from finish()
    this.write(
      `${safeText(p.name)}: ${quarter * 25}% of ${formatBytes(p.size)}, ${formatSpeed(p.speed)} (${safeText(p.path)})`,
    );
  }

  finish(key: string, summary: string): void {
    this.reported.delete(key);
    this.write(summary);
  }

  log(text: string): void {
    this.write(text);
  }

  close(): void {}
}

/** --json: progress goes out as JSON lines elsewhere; this prints nothing. */
export class SilentProgress implements ProgressSink {
  update(): void {}
  finish(): void {}
  log(): void {}
  close(): void {}
}
