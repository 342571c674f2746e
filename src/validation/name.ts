/** People's names as a passenger or driver types them: Chinese names or Latin-script names. */
import { charCount, normalizeText } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

export const CHINESE_NAME_MIN = 2;
export const CHINESE_NAME_MAX = 20;
export const LATIN_NAME_MIN = 2;
export const LATIN_NAME_MAX = 40;

const HAN = /\p{Script=Han}/u;
/** Dots people type between the parts of a transliterated name (阿卜杜拉·买买提); all become U+00B7 `·`. */
const NAME_DOTS = /[.·•・‧∙⋅]/g;
const APOSTROPHES = /[’‘ʼ`´]/g;
const DASHES = /[\u2010-\u2014\u2212]/g;

type NameReason = ReasonOf<'personName'>;
const fail = (reason: NameReason, params?: Record<string, number>): Rejection => reject(reason, params);

function parseChineseName(text: string): Validated<string> {
  // Spaces inside a Chinese name are typing slips ("张 三"); the dot look-alikes become the middle dot.
  const name = text.replace(/\s+/g, '').replace(NAME_DOTS, '·');
  if (!/^[\p{Script=Han}·]+$/u.test(name)) return fail('characters');
  if (name.startsWith('·') || name.endsWith('·') || name.includes('··')) return fail('format');
  const length = charCount(name);
  if (length < CHINESE_NAME_MIN) return fail('too_short', { min: CHINESE_NAME_MIN });
  if (length > CHINESE_NAME_MAX) return fail('too_long', { max: CHINESE_NAME_MAX });
  return accept(name);
}

function parseLatinName(text: string): Validated<string> {
  const name = text.replace(APOSTROPHES, "'").replace(DASHES, '-').replace(/\s*-\s*/g, '-');
  if (!/^[\p{Script=Latin}' -]+$/u.test(name)) return fail('characters');
  if (!/^\p{L}.*\p{L}$|^\p{L}$/u.test(name) || /[' -]{2,}/.test(name)) return fail('format');
  const letters = name.replace(/[' -]/g, '').length;
  if (letters < LATIN_NAME_MIN) return fail('too_short', { min: LATIN_NAME_MIN });
  if (name.length > LATIN_NAME_MAX) return fail('too_long', { max: LATIN_NAME_MAX });
  return accept(name);
}

/**
 * A person's name, normalized. Chinese: 2-20 characters, Chinese characters and the middle dot `·` (`.`, `•`,
 * `・` and similar between characters become `·`; spaces are dropped). Latin script: letters (accents allowed),
 * single spaces, hyphens and apostrophes, starting and ending with a letter, at most 40 characters, case kept.
 * Reasons: `digits`, `characters` (emoji, symbols, other scripts, or Chinese mixed with Latin letters),
 * `format` (a dot, hyphen or apostrophe at an end or doubled), `too_short` {min}, `too_long` {max}.
 */
export function parsePersonName(raw: string): Validated<string> {
  const text = normalizeText(raw);
  if (text === '') return fail('too_short', { min: CHINESE_NAME_MIN });
  if (/\p{Nd}/u.test(text)) return fail('digits');
  return HAN.test(text) ? parseChineseName(text) : parseLatinName(text);
}
