// What `parley send` and `parley receive` report of a transfer's progress: one JSON record per progress event
// (with --json) and the human view (a bar on a terminal, lines otherwise), from one place so both commands agree.
import type { TransferProgress } from '../../core/src/transfer/index.js';
import { PlainProgress, SilentProgress, TtyProgress, type ProgressSink } from './progress.js';

export interface TransferProgressJson {
  type: 'progress';
  offerId: string;
  file: string;
  fileBytesDone: number;
  fileSize: number;
  bytesDone: number;
  total: number;
  speed: number;
  eta: number | null;
  path: string;
  /** Which transport carried it: 'tcp' | 'webrtc' (both path 'direct') | 'relay' | 'none'. */
  route?: string;
}

export function progressJson(p: TransferProgress, route?: string): TransferProgressJson {
  return {
    type: 'progress',
    offerId: p.offerId,
    file: p.relativePath,
    fileBytesDone: p.fileBytesDone,
    fileSize: p.fileSize,
    bytesDone: p.bytesDone,
    total: p.total,
    speed: Math.round(p.speed),
    eta: p.eta,
    path: p.path,
    ...(route !== undefined ? { route } : {}),
  };
}

export function progressSinkFor(out: { json: boolean; tty: boolean; line(t: string): void }): ProgressSink {
  if (out.json) return new SilentProgress();
  return out.tty ? new TtyProgress(process.stdout) : new PlainProgress((l) => out.line(l));
}

/** Reports one progress event both ways: the JSON record (its route: which transport carried it) and the view. */
export function reportProgress(
  out: { record(value: unknown): void },
  view: ProgressSink,
  p: TransferProgress,
  route: string | undefined,
): void {
  out.record(progressJson(p, route));
  view.update({
    key: `${p.offerId}/${p.fileId}`,
    name: p.relativePath,
    done: p.fileBytesDone,
    size: p.fileSize,
    speed: p.speed,
    path: p.path,
  });
}
