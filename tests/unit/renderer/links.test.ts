import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };
let splitLinks: (text: string) => Segment[];
let safeExternalUrl: (url: string) => string | null;

beforeAll(async () => {
  ({ splitLinks, safeExternalUrl } = await loadRenderer<{
    splitLinks: typeof splitLinks;
    safeExternalUrl: typeof safeExternalUrl;
  }>('lib/links.ts'));
});

const links = (text: string) =>
  splitLinks(text)
    .filter((s) => s.kind === 'link')
    .map((s) => (s as { href: string }).href);

describe('link detection', () => {
  it('finds http(s) and www links and keeps the text intact', () => {
    const text = 'see https://example.org/a?b=1#c and www.example.com/x, or http://10.0.0.1:8080/.';
    const segments = splitLinks(text);
    expect(segments.map((s) => s.text).join('')).toBe(text);
    expect(links(text)).toEqual(['https://example.org/a?b=1#c', 'https://www.example.com/x', 'http://10.0.0.1:8080/']);
  });

  it('leaves sentence punctuation and closing brackets outside the link', () => {
    expect(links('Go to https://example.org.')).toEqual(['https://example.org']);
    expect(links('(https://example.org/page)')).toEqual(['https://example.org/page']);
    expect(links('"https://example.org/q?x=1"!')).toEqual(['https://example.org/q?x=1']);
    expect(links('https://en.wikipedia.org/wiki/Foo_(bar) ok')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
  });

  it('stops at full-width punctuation in Chinese text', () => {
    expect(links('请看https://example.cn/页面，谢谢。')).toEqual(['https://example.cn/页面']);
  });

  it('treats text without links as one text segment and ignores bare schemes', () => {
    expect(splitLinks('hello world')).toEqual([{ kind: 'text', text: 'hello world' }]);
    expect(links('https:// nothing')).toEqual([]);
    expect(splitLinks('')).toEqual([]);
  });

  it('does not match javascript: or other schemes', () => {
    expect(links('javascript:alert(1) data:text/html,x file:///etc/passwd')).toEqual([]);
  });
});

describe('safeExternalUrl', () => {
  it('allows https URLs only', () => {
    expect(safeExternalUrl('https://example.org/x?y=1')).toBe('https://example.org/x?y=1');
    expect(safeExternalUrl('http://example.org')).toBeNull();
    expect(safeExternalUrl('javascript:alert(1)')).toBeNull();
    expect(safeExternalUrl('file:///etc/passwd')).toBeNull();
    expect(safeExternalUrl('parley://invite?v=1')).toBeNull();
    expect(safeExternalUrl('not a url')).toBeNull();
  });

  it('refuses URLs with credentials (a user@ part can disguise the host)', () => {
    expect(safeExternalUrl('https://trusted.example@evil.example/')).toBeNull();
    expect(safeExternalUrl('https://u:p@example.org/')).toBeNull();
  });
});
