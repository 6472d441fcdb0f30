// From the transfer engine's offers to the UI's one-row-per-file model, and names for outgoing
// files the engine accepts. Pure: unit-tested.
import type { TransferFileInfo, TransferInfo } from '../../../core/src/transfer/types.js';
import type { TransferStatus, TransferUpdate } from './transfers.svelte.js';

export function rowId(offerId: string, fileId: number): string {
  return `${offerId}:${fileId}`;
}

export function fileStatus(
  info: Pick<TransferInfo, 'state' | 'direction'>,
  file: Pick<TransferFileInfo, 'state' | 'size' | 'bytesDone'>,
): TransferStatus {
  if (file.state === 'verified') return 'done';
  if (file.state === 'failed') return 'failed';
  // A declined offer cancels its pending files: say "declined", which is why.
  if (info.state === 'declined') return 'declined';
  if (file.state === 'cancelled') return 'cancelled';
  switch (info.state) {
    case 'pending':
      return 'offered';
    case 'offered':
      return info.direction === 'out' ? 'waiting' : 'offered';
    case 'active':
      // All bytes written but not yet proven by the hash.
      return file.size > 0 && file.bytesDone >= file.size ? 'verifying' : 'active';
    case 'paused':
      return 'paused';
    case 'cancelled':
      return 'cancelled';
    case 'done':
      return 'done';
  }
}

export function rowsOf(info: TransferInfo): TransferUpdate[] {
  return info.files.map((f) => ({
    id: rowId(info.offerId, f.fileId),
    offerId: info.offerId,
    contactId: info.contactId,
    direction: info.direction,
    name: f.relativePath,
    size: f.size,
    bytesDone: f.bytesDone,
    status: fileStatus(info, f),
    error:
      f.error?.message ?? (info.state === 'paused' || info.state === 'declined' ? (info.error?.message ?? null) : null),
    savedAs: f.savedAs ?? null,
    createdAt: info.createdAt,
  }));
}

const encoder = new TextEncoder();
const MAX_SEGMENT_BYTES = 200;
const DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;

/**
 * A picked file's name as a relative path the engine accepts (one segment): no separators, colons,
 * controls or bidi marks, no trailing dot or space, no Windows device name, at most 200 UTF-8 bytes.
 */
export function outgoingName(name: string): string {
  let n = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\\/:<>"|?*]/g, '_')
    .replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '_')
    .trim();
  if (n === '' || n === '.' || n === '..') n = 'file';
  if (encoder.encode(n).length > MAX_SEGMENT_BYTES) {
    const dot = n.lastIndexOf('.');
    const ext = dot > 0 && n.length - dot <= 16 ? n.slice(dot) : '';
    const stem = [...n.slice(0, n.length - ext.length)];
    while (stem.length > 0 && encoder.encode(stem.join('') + ext).length > MAX_SEGMENT_BYTES) stem.pop();
    n = stem.join('') + ext;
  }
  n = n.replace(/[. ]+$/, '') || 'file';
  if (DEVICE.test(n.split('.')[0]!.replace(/ +$/, ''))) n = `_${n}`;
  return n;
}
