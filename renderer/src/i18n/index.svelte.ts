// The current language as reactive state: `t()` read in a template re-renders when it changes.
import type { MessageKey } from './en.js';
import { DICTIONARIES, LOCALES, type Language } from './languages.js';
import { interpolate, type Params } from './translate.js';

class I18n {
  language = $state<Language>('en');
  readonly locale = $derived(LOCALES[this.language]);

  t = (key: MessageKey, params?: Params): string => interpolate(DICTIONARIES[this.language][key], params);

  /** Chooses between `key.one` and `key.other` by count, where a language distinguishes them. */
  tn = (key: PluralBase, n: number, params?: Params): string => {
    const form = new Intl.PluralRules(this.locale).select(n) === 'one' ? 'one' : 'other';
    return this.t(`${key}.${form}` as MessageKey, { n, ...params });
  };
}

type PluralBase = MessageKey extends infer K ? (K extends `${infer B}.one` ? B : never) : never;

export const i18n = new I18n();
export const t = i18n.t;
export const tn = i18n.tn;
export type { MessageKey, Language };
