import { describe, expect, it } from 'vitest';
import { resolveContact } from '../../../cli/src/resolve-contact.js';
import { UsageError, EXIT_USAGE } from '../../../cli/src/errors.js';

const contacts = [
  { id: 'AbCdEf0123456789012345678901234567890123456', name: 'Alice' },
  { id: 'AbCzzz0123456789012345678901234567890123456', name: 'Bob' },
  { id: 'Qwerty0123456789012345678901234567890123456', name: 'alice smith' },
  { id: 'Zzzzzz0123456789012345678901234567890123456', name: 'AbC' },
];

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('resolveContact', () => {
  it('finds a contact by exact display name', () => {
    expect(resolveContact(contacts, 'Bob').id).toBe(contacts[1]!.id);
  });

  it('falls back to a case-insensitive name when nothing matches exactly', () => {
    expect(resolveContact(contacts, 'BOB').id).toBe(contacts[1]!.id);
    expect(resolveContact(contacts, 'ALICE SMITH').id).toBe(contacts[2]!.id);
  });

  it('finds a contact by a unique id prefix and by full id', () => {
    expect(resolveContact(contacts, 'AbCd').id).toBe(contacts[0]!.id);
    expect(resolveContact(contacts, 'Q').id).toBe(contacts[2]!.id);
    expect(resolveContact(contacts, contacts[3]!.id).name).toBe('AbC');
  });

  it('refuses an ambiguous prefix with exit code 2 and lists every candidate', () => {
    const err = errorOf(() => resolveContact(contacts, 'AbC'));
    expect(err.exitCode).toBe(EXIT_USAGE);
    expect(err.message).toContain('matches 3 contacts');
    // "AbC" is a prefix of two ids and the exact name of a third.
    for (const c of [contacts[0]!, contacts[1]!, contacts[3]!]) expect(err.message).toContain(c.id);
    expect(err.message).not.toContain(contacts[2]!.id);
  });

  it('reports an unknown contact as a usage error', () => {
    const err = errorOf(() => resolveContact(contacts, 'Mallory'));
    expect(err.exitCode).toBe(EXIT_USAGE);
    expect(err.message).toContain('no contact matches "Mallory"');
    expect(errorOf(() => resolveContact([], 'x')).message).toContain('parley add');
    expect(errorOf(() => resolveContact(contacts, '  ')).message).toContain('empty');
  });
});
