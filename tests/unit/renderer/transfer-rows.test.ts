import { beforeAll, describe, expect, it } from 'vitest';
import type { TransferInfo } from '../../../core/src/transfer/types.js';
import { loadRenderer } from './load.js';

interface Row {
  id: string;
  status: string;
  bytesDone: number;
  name: string;
  savedAs: string | null;
  error: string | null;
}
let rowsOf: (info: TransferInfo) => Row[];
let outgoingName: (name: string) => string;
let relativePathProblem: (path: string) => string | null;

beforeAll(async () => {
  ({ rowsOf, outgoingName } = await loadRenderer<{ rowsOf: typeof rowsOf; outgoingName: typeof outgoingName }>(
    'state/transfer-rows.ts',
  ));
  ({ relativePathProblem } = await import('../../../core/src/transfer/names.js'));
});

function offer(
  state: TransferInfo['state'],
  direction: 'in' | 'out',
  files: Array<Partial<TransferInfo['files'][number]>>,
): TransferInfo {
  return {
    offerId: 'o1',
    contactId: 'c1',
    direction,
    state,
    createdAt: 1,
    total: 0,
    files: files.map((f, i) => ({
      fileId: i,
      relativePath: `f${i}`,
      size: 100,
      mime: 'x',
      state: 'pending',
      bytesDone: 0,
      ...f,
    })),
  };
}

describe('transfer rows', () => {
  it('maps offer and file states to what the UI shows', () => {
    expect(rowsOf(offer('pending', 'in', [{}]))[0]!.status).toBe('offered');
    expect(rowsOf(offer('offered', 'out', [{}]))[0]!.status).toBe('waiting');
    expect(rowsOf(offer('active', 'in', [{ bytesDone: 50 }]))[0]!.status).toBe('active');
    expect(rowsOf(offer('active', 'in', [{ bytesDone: 100 }]))[0]!.status).toBe('verifying');
    expect(rowsOf(offer('paused', 'in', [{}]))[0]!.status).toBe('paused');
    expect(rowsOf(offer('declined', 'out', [{ state: 'cancelled' }]))[0]!.status).toBe('declined');
    expect(rowsOf(offer('cancelled', 'out', [{ state: 'cancelled' }]))[0]!.status).toBe('cancelled');
    const done = rowsOf(
      offer('done', 'in', [
        { state: 'verified', bytesDone: 100, savedAs: 'f0 (1)' },
        { state: 'failed', error: { code: 'verify-failed', message: 'hash differs' } },
      ]),
    );
    expect(done.map((r) => r.status)).toEqual(['done', 'failed']);
    expect(done[0]!.savedAs).toBe('f0 (1)');
    expect(done[1]!.error).toBe('hash differs');
    expect(done.map((r) => r.id)).toEqual(['o1:0', 'o1:1']);
  });

  it('turns any picked file name into one the engine accepts', () => {
    const names = [
      'report.pdf',
      'a:b.txt',
      'CON.txt',
      'nul',
      'trailing. ',
      '..',
      '',
      'evil\u202Etxt.exe',
      `${'长'.repeat(150)}.txt`,
      'tab\there',
      'x\\y/z',
    ];
    for (const n of names) {
      const out = outgoingName(n);
      expect(relativePathProblem(out), `${JSON.stringify(n)} → ${JSON.stringify(out)}`).toBeNull();
    }
    expect(outgoingName('report.pdf')).toBe('report.pdf');
    expect(outgoingName('报告.docx')).toBe('报告.docx');
    expect(outgoingName(`${'长'.repeat(150)}.txt`).endsWith('.txt')).toBe(true);
  });
});
