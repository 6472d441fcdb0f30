// Persistence of transfers through the injected KeyValueStore, so both sides resume after a restart.
// One record per offer (metadata, written rarely) and one small record per file (state + checkpoint,
// written often), so a checkpoint never rewrites a 1,000-file offer. Records read back are validated:
// a corrupt record is skipped with a log line, never trusted.
import { z } from 'zod';
import type { KeyValueStore, Logger } from '../platform/types.js';
import { OfferFileSchema } from './protocol.js';

const PREFIX = 'transfer/';
const b64 = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/)
  .max(512);
const errorInfo = z.object({ code: z.string().max(40), message: z.string().max(500) });
const offerState = z.enum(['offered', 'pending', 'active', 'paused', 'done', 'declined', 'cancelled']);
const fileState = z.enum(['pending', 'verified', 'failed', 'cancelled']);
// `scheme`: the digest scheme the state belongs to (hash.ts FILE_DIGEST_SCHEME); states without it or
// from another scheme are ignored (that file is hashed from the start), never loaded.
const hashPoint = z.object({ offset: z.number().int().min(0), state: b64, scheme: z.string().max(40).optional() });

export const OfferRecordSchema = z.object({
  v: z.literal(1),
  direction: z.enum(['out', 'in']),
  offerId: z.string().regex(/^[A-Za-z0-9_-]{21}[AQgw]$/),
  contactId: z.string().min(1).max(200),
  createdAt: z.number(),
  state: offerState,
  round: z.number().int().min(0),
  total: z.number().int().min(0),
  files: z.array(OfferFileSchema.extend({ source: z.string().max(8192).optional() })),
  error: errorInfo.optional(),
});
export type OfferRecord = z.infer<typeof OfferRecordSchema>;

export const FileRecordSchema = z.object({
  state: fileState,
  error: errorInfo.optional(),
  savedAs: z.string().max(8192).optional(),
  /** Receiver: durable offset + hash state there. Sender: a hash state at an offset the receiver holds durably. */
  hash: hashPoint.optional(),
});
export type FileRecord = z.infer<typeof FileRecordSchema>;

export interface LoadedOffer {
  record: OfferRecord;
  files: Map<number, FileRecord>;
}

const offerKey = (direction: 'out' | 'in', contactId: string, offerId: string) =>
  `${PREFIX}${direction}/${contactId}/${offerId}`;
const fileKey = (direction: 'out' | 'in', contactId: string, offerId: string, fileId: number) =>
  `${offerKey(direction, contactId, offerId)}/f/${fileId}`;

export class TransferStore {
  /** Per key: the write in flight and the latest value waiting behind it (older waiting values are dropped). */
  private readonly writes = new Map<string, { running: Promise<void>; next?: PendingWrite }>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly logger: Logger,
  ) {}

  saveOffer(record: OfferRecord): Promise<void> {
    return this.write(offerKey(record.direction, record.contactId, record.offerId), record);
  }

  saveFile(record: OfferRecord, fileId: number, file: FileRecord): Promise<void> {
    return this.write(fileKey(record.direction, record.contactId, record.offerId, fileId), file);
  }

  async deleteOffer(record: OfferRecord): Promise<void> {
    const base = offerKey(record.direction, record.contactId, record.offerId);
    for (const key of await this.kv.keys(`${base}/f/`)) await this.kv.delete(key);
    await this.kv.delete(base);
  }

  async loadAll(): Promise<LoadedOffer[]> {
    const keys = await this.kv.keys(PREFIX);
    const offers = new Map<string, LoadedOffer>();
    const fileKeys: string[] = [];
    for (const key of keys) {
      if (key.includes('/f/')) {
        fileKeys.push(key);
        continue;
      }
      const parsed = OfferRecordSchema.safeParse(await this.kv.get(key));
      if (parsed.success && offerKey(parsed.data.direction, parsed.data.contactId, parsed.data.offerId) === key) {
        offers.set(key, { record: parsed.data, files: new Map() });
      } else this.logger.warn({ key }, 'transfer: skipping unreadable offer record');
    }
    for (const key of fileKeys) {
      const at = key.lastIndexOf('/f/');
      const offer = offers.get(key.slice(0, at));
      const fileId = Number(key.slice(at + 3));
      if (!offer || !Number.isInteger(fileId)) continue;
      const parsed = FileRecordSchema.safeParse(await this.kv.get(key));
      if (parsed.success) offer.files.set(fileId, parsed.data);
      else this.logger.warn({ key }, 'transfer: skipping unreadable file record');
    }
    return [...offers.values()];
  }

  /** Waits for every write issued so far (failures are reported to their callers, not here). */
  async idle(): Promise<void> {
    while (this.writes.size) {
      await Promise.allSettled([...this.writes.values()].map((w) => w.next?.done ?? w.running));
    }
  }

  // Writes to one key never overlap and never reorder: a slow KeyValueStore can't have an old
  // checkpoint land after a newer one. Values superseded while waiting are never written.
  private write(key: string, value: unknown): Promise<void> {
    const current = this.writes.get(key);
    if (!current) return this.start(key, value);
    if (!current.next) current.next = pendingWrite(value);
    else current.next.value = value;
    return current.next.done;
  }

  private start(key: string, value: unknown): Promise<void> {
    const running = this.kv.set(key, value).finally(() => {
      const next = this.writes.get(key)?.next;
      this.writes.delete(key);
      if (next) this.start(key, next.value).then(next.resolve, next.reject);
    });
    this.writes.set(key, { running });
    return running;
  }
}

interface PendingWrite {
  value: unknown;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function pendingWrite(value: unknown): PendingWrite {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {});
  return { value, done, resolve, reject };
}
