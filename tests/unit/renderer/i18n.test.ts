import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer, rendererSrc } from './load.js';

type Dict = Record<string, string>;
let en: Dict;
let zh: Dict;
let placeholders: (s: string) => string[];
let interpolate: (s: string, p?: Record<string, string | number>) => string;
let detectLanguage: (preferred: readonly string[]) => string;

beforeAll(async () => {
  ({ en } = await loadRenderer<{ en: Dict }>('i18n/en.ts'));
  ({ zh } = await loadRenderer<{ zh: Dict }>('i18n/zh.ts'));
  ({ placeholders, interpolate } = await loadRenderer<{
    placeholders: typeof placeholders;
    interpolate: typeof interpolate;
  }>('i18n/translate.ts'));
  ({ detectLanguage } = await loadRenderer<{ detectLanguage: typeof detectLanguage }>('i18n/languages.ts'));
});

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(svelte|ts)$/.test(name) && !/^(en|zh)\.ts$/.test(name)) out.push(p);
  }
  return out;
}

describe('i18n dictionaries', () => {
  it('English and Chinese have exactly the same keys', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(en).length).toBeGreaterThan(150);
  });

  it('every message is non-empty and uses the same placeholders in both languages', () => {
    for (const key of Object.keys(en)) {
      expect(en[key]!.trim(), key).not.toBe('');
      expect(zh[key]!.trim(), key).not.toBe('');
      expect(placeholders(zh[key]!), key).toEqual(placeholders(en[key]!));
    }
  });

  it('Chinese strings are translated (contain Han characters), except brand names', () => {
    const untranslatable = new Set(['app.name']);
    const untranslated = Object.keys(zh).filter((k) => !untranslatable.has(k) && !/[\u4e00-\u9fff]/.test(zh[k]!));
    expect(untranslated).toEqual([]);
  });

  it('no English sentence ends on a dangling possessive ("…to your contacts’.") or doubled punctuation', () => {
    for (const [key, text] of Object.entries(en)) {
      expect(text, key).not.toMatch(/s’\.$|s'\.$/);
      expect(text, key).not.toMatch(/\.\.$|\s[.,:;]|^\s/);
    }
  });

  it('plural messages come in one/other pairs', () => {
    for (const key of Object.keys(en).filter((k) => k.endsWith('.one'))) {
      expect(en, key).toHaveProperty(key.replace(/\.one$/, '.other'));
    }
  });

  it('every key the UI names literally exists, and every key is used', () => {
    const files = sourceFiles(fileURLToPath(rendererSrc));
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    const literal = new Set([...text.matchAll(/\bt\(\s*'([\w.-]+)'/g)].map((m) => m[1]!));
    for (const m of text.matchAll(/\btn\(\s*'([\w.-]+)'/g)) {
      literal.add(`${m[1]}.one`);
      literal.add(`${m[1]}.other`);
    }
    const missing = [...literal].filter((k) => !(k in en));
    expect(missing).toEqual([]);
    // Keys built from a state value (t(`files.status.${status}`)) are covered by their prefix.
    const dynamicPrefixes = [...text.matchAll(/\bt\(\s*`([\w.-]+)\.\$\{/g)].map((m) => `${m[1]}.`);
    const unused = Object.keys(en).filter((k) => !literal.has(k) && !dynamicPrefixes.some((p) => k.startsWith(p)));
    expect(unused).toEqual([]);
  });
});

describe('i18n helpers', () => {
  it('interpolates placeholders and keeps unknown ones visible', () => {
    expect(interpolate('Hi {name}, {n} new', { name: 'Ada', n: 3 })).toBe('Hi Ada, 3 new');
    expect(interpolate('Hi {name}', {})).toBe('Hi {name}');
    expect(interpolate('plain')).toBe('plain');
  });

  it('detects the language from browser preferences', () => {
    expect(detectLanguage(['zh-CN', 'en-US'])).toBe('zh');
    expect(detectLanguage(['zh-Hans'])).toBe('zh');
    expect(detectLanguage(['de-DE', 'en-GB'])).toBe('en');
    expect(detectLanguage(['fr'])).toBe('en');
    expect(detectLanguage([])).toBe('en');
  });
});
