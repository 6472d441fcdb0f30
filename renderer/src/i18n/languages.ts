import { en, type MessageKey } from './en.js';
import { zh } from './zh.js';

export type Language = 'en' | 'zh';
export const LANGUAGES: readonly Language[] = ['en', 'zh'];

/** Names shown in the language picker, each in its own language. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', zh: '简体中文' };

/** BCP 47 tags for Intl formatting. */
export const LOCALES: Record<Language, string> = { en: 'en', zh: 'zh-CN' };

export const DICTIONARIES: Record<Language, Record<MessageKey, string>> = { en, zh };

/** First supported language among the browser's preferences; English otherwise. */
export function detectLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}
