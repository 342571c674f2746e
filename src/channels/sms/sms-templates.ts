import { z } from 'zod';
import zhCN from '../../../locales/zh-CN/sms.json' with { type: 'json' };
import en from '../../../locales/en/sms.json' with { type: 'json' };
import { SMS_KINDS, type SmsKind } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Locale } from '../../contracts/conversation.js';

/**
 * The fixed set of approved SMS templates (one per step kind) and how a rendered SMS is measured.
 *
 * Every outgoing SMS is `【signName】` + one approved notification template with short variables [doc: aliyun-sms §1.6].
 * The approved text lives in `locales/<locale>/sms.json` under `sms.<kind>`, written exactly as it is submitted in the
 * console: `${var}` placeholders (Alibaba syntax, NOT the `{var}` syntax of the other locale files). Render these keys
 * with `renderSms` only; `Translator.t('sms.ask')` would mangle `${item}`. The label texts that fill variables
 * (`sms.items.*`, `sms.menus.*`, `sms.reasons.*`, `sms.examples.*`, `sms.statuses.*`) are plain strings and may be
 * read through the translator.
 *
 * Budget: a rendered SMS, signature included, is at most 70 characters (one billed message; longer texts are billed per
 * 67-character segment). Each variable has a maximum length (`SMS_TEMPLATE_VARIABLES`) chosen so that the WORST case of
 * every template in every locale — all variables at their maximum — still fits with the default signature `出行登记`
 * (test/channels/sms/sms-templates.test.ts). `fitParams` cuts values to those maxima; it is applied by both
 * `renderSms` and the sender, so what the phone shows is exactly what `renderSms` returns.
 *
 * Alibaba rules kept here [doc: help.aliyun.com 44357 / 463270]: a variable is 1–35 characters and never empty; a
 * variable appears once; no two variables side by side (whitespace alone does not separate them); no template made
 * only of variables; no `【】` anywhere, no `[ ]` at either end; no special symbols such as `→ ★ ※ ①`; no link in a
 * variable; variable names are letters/digits/_ starting with a letter and not email/mobile/id/nick/site.
 *
 * Each locale needs its own approved template code per kind (the approved text differs); see the report on
 * `SMS_TEMPLATES` in config: today it maps one code per kind, which is the zh-CN text.
 */

/** One billed SMS: at most 70 characters including the 【signature】 (UCS-2, also for English text with a Chinese signature). */
export const SMS_MAX_CHARS = 70;
/** Characters per billed segment once a text is longer than SMS_MAX_CHARS. */
export const SMS_SEGMENT_CHARS = 67;
/** Alibaba's cap for one variable value (notification templates). */
export const SMS_VARIABLE_HARD_MAX = 35;

/**
 * How a value longer than its maximum is shortened:
 * `cut` keeps the start; `place` first drops administrative suffixes (市, 自治州, 地区, 盟, 客运站…) then cuts;
 * `keepLast` keeps the start and the last character (masked names: `阿依古丽*买买提` → `阿依古丽*提`).
 */
export type SmsTrimRule = 'cut' | 'place' | 'keepLast';
export interface SmsVariableSpec { readonly max: number; readonly trim: SmsTrimRule; readonly example: string }

/**
 * Per kind: the variable names and the maximum length of each (in characters as counted by `smsLength`).
 * `example` is the longest realistic value, used by the contract test and handy for the console application.
 */
export const SMS_TEMPLATE_VARIABLES = {
  /** Names the trip and asks for consent. time = `MM-DD HH:mm` (formatSmsTime); from/to = short place names. */
  invite: {
    plate: { max: 8, trim: 'cut', example: '辽A12345D' },
    time: { max: 11, trim: 'cut', example: '11-26 08:30' },
    from: { max: 6, trim: 'place', example: '呼和浩特东站' },
    to: { max: 6, trim: 'place', example: '乌兰察布市' },
  },
  /** Asks for one item: item = `sms.items.*`. */
  ask: {
    item: { max: 20, trim: 'cut', example: '来京前住址' },
  },
  /** What was wrong (`sms.reasons.*`) and an example of a good answer (`sms.examples.*`). */
  retry: {
    reason: { max: 14, trim: 'cut', example: '身份证号最后一位不对' },
    example: { max: 18, trim: 'cut', example: '210102199003071233' },
  },
  /** A numbered question: title = `sms.menus.<m>.title`, options = `sms.menus.<m>.options` (numbered from 1; 0/8/9 reserved). */
  menu: {
    title: { max: 8, trim: 'cut', example: '证件类型' },
    options: { max: 35, trim: 'cut', example: '1身份证 2港澳证 3台湾证 4护照 5永居证 6居住证 7外国护照' },
  },
  /** Read-back, masked: name `张*三`, idno `2101**********123X`, phone `139****1111`. */
  summary: {
    name: { max: 6, trim: 'keepLast', example: '欧阳*明' },
    idno: { max: 18, trim: 'cut', example: '2101**********123X' },
    phone: { max: 11, trim: 'cut', example: '139****1111' },
  },
  /** Closing: plate of the trip and `sms.statuses.*`. */
  done: {
    plate: { max: 8, trim: 'cut', example: '辽A12345D' },
    status: { max: 9, trim: 'cut', example: '已取消，信息未保存' },
  },
} as const satisfies Record<SmsKind, Record<string, SmsVariableSpec>>;

export type SmsVariableName<K extends SmsKind> = keyof (typeof SMS_TEMPLATE_VARIABLES)[K] & string;
/** Statically typed params for one kind, for callers that know the kind. */
export type SmsParams<K extends SmsKind> = Record<SmsVariableName<K>, string>;
/** What `renderSms`/`fitParams`/the sender accept: extra keys are dropped, numbers become strings. */
export type SmsParamInput = Readonly<Record<string, string | number>>;

const SmsLocaleSchema = z.strictObject({
  ...(Object.fromEntries(SMS_KINDS.map((k) => [k, z.string().min(1)])) as Record<SmsKind, z.ZodString>),
  items: z.record(z.string(), z.string().min(1)),
  menus: z.record(z.string(), z.strictObject({ title: z.string().min(1), options: z.string().min(1) })),
  reasons: z.record(z.string(), z.string().min(1)),
  examples: z.record(z.string(), z.string().min(1)),
  statuses: z.record(z.string(), z.string().min(1)),
});
export type SmsLocaleTexts = z.infer<typeof SmsLocaleSchema>;

/** Parsed once at import: a malformed sms.json is a boot error, like any broken locale file. */
const TEXTS: Readonly<Record<Locale, SmsLocaleTexts>> = Object.freeze({
  'zh-CN': SmsLocaleSchema.parse(zhCN),
  en: SmsLocaleSchema.parse(en),
});

/** The label texts of a locale (`sms.items.*` …), for callers filling variables. */
export function smsLocaleTexts(locale: Locale): SmsLocaleTexts {
  return TEXTS[locale];
}

/** The approved template text of a kind, with `${var}` placeholders (what is submitted in the console). */
export function smsTemplateText(kind: SmsKind, locale: Locale): string {
  return TEXTS[locale][kind];
}

/**
 * Length as the carrier counts it: characters, not bytes. Every BMP character (汉字, letter, digit, punctuation,
 * space, 【】) is 1; a character outside the BMP (emoji) needs a UTF-16 surrogate pair in UCS-2/UTF-16 SMS and
 * counts 2, which is exactly JavaScript's string length.
 */
export function smsLength(text: string): number {
  return text.length;
}

/** Billed messages for a text of `length` characters (70 in one, then 67 per segment). */
export function smsSegments(length: number): number {
  return length <= SMS_MAX_CHARS ? 1 : Math.ceil(length / SMS_SEGMENT_CHARS);
}

const PLACE_SUFFIXES = ['汽车客运站', '长途汽车站', '客运中心', '汽车站', '客运站', '自治州', '自治县', '地区', '盟', '市'];

function cutTo(value: string, max: number): string {
  let out = '';
  for (const ch of value) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

function shorten(value: string, spec: SmsVariableSpec): string {
  let v = value;
  if (spec.trim === 'place') {
    for (const suffix of PLACE_SUFFIXES) {
      if (v.length > suffix.length + 1 && v.endsWith(suffix)) { v = v.slice(0, -suffix.length); break; }
    }
  }
  if (smsLength(v) <= spec.max) return v;
  if (spec.trim === 'keepLast') {
    const chars = [...v];
    const last = chars[chars.length - 1] ?? '';
    return cutTo(v, spec.max - last.length) + last;
  }
  return cutTo(v, spec.max);
}

const LINK = /https?:\/\/|www\.|\b[a-z0-9-]+\.(?:com|cn|net|org)\b/i;

/**
 * Cleans and trims params to the kind's variables: exactly those keys, string values, no line breaks or 【】[],
 * whitespace collapsed, each value cut to its maximum by the variable's trim rule.
 * Throws (programmer errors, no values in the message): a variable missing or empty (Alibaba rejects empty
 * variables), or a value that looks like a link (links must be fixed template text).
 */
export function fitParams(kind: SmsKind, params: SmsParamInput): Record<string, string> {
  const specs: Record<string, SmsVariableSpec> = SMS_TEMPLATE_VARIABLES[kind];
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = params[name];
    if (raw === undefined || raw === null) {
      throw new AppError('SMS_PARAM_MISSING', `sms ${kind}: variable ${name} is missing`, 500);
    }
    const cleaned = String(raw).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ').replace(/[【】[\]]/g, '').replace(/\s+/g, ' ').trim();
    if (cleaned === '') throw new AppError('SMS_PARAM_EMPTY', `sms ${kind}: variable ${name} is empty`, 500);
    if (LINK.test(cleaned)) {
      throw new AppError('SMS_PARAM_URL', `sms ${kind}: variable ${name} looks like a link; links must be fixed template text`, 500);
    }
    out[name] = shorten(cleaned, spec);
  }
  return out;
}

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** Fills `${var}` placeholders; values must already be fitted. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** The exact text a phone shows: `【signName】` + the filled template, with params fitted to their maxima. */
export function renderSms(input: { kind: SmsKind; params: SmsParamInput; locale: Locale; signName: string }): string {
  return `【${input.signName}】${fillTemplate(smsTemplateText(input.kind, input.locale), fitParams(input.kind, input.params))}`;
}

/** Variable names in a template text, in order of appearance. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Worst case: the longest text this kind can render in this locale (every variable at its maximum). */
export function maxRenderedLength(kind: SmsKind, locale: Locale, signName: string): number {
  const specs: Record<string, SmsVariableSpec> = SMS_TEMPLATE_VARIABLES[kind];
  const fixed = smsLength(smsTemplateText(kind, locale).replace(PLACEHOLDER, ''));
  const vars = templateVariables(smsTemplateText(kind, locale)).reduce((sum, name) => sum + (specs[name]?.max ?? SMS_VARIABLE_HARD_MAX), 0);
  return smsLength(`【${signName}】`) + fixed + vars;
}

const RESERVED_VARIABLE_NAMES = new Set(['email', 'mobile', 'id', 'nick', 'site']);
const SPECIAL_SYMBOLS = /[→←↑↓★☆※●○◆◇■□▲△①-⑳『』「」〖〗•¥√]/u;

/** Checks a template text against Alibaba's template rules; returns the problems found (empty = fine). */
export function lintSmsTemplate(template: string): string[] {
  const problems: string[] = [];
  if (/[【】]/.test(template)) problems.push('contains 【】 (reserved for the signature)');
  if (/^\s*[[\]]|[[\]]\s*$/.test(template)) problems.push('starts or ends with [ ]');
  if (SPECIAL_SYMBOLS.test(template)) problems.push('contains a special symbol');
  if (/\$\{(?![A-Za-z][A-Za-z0-9_]*\})/.test(template)) problems.push('has a malformed placeholder');
  const names = templateVariables(template);
  const seen = new Set<string>();
  for (const name of names) {
    if (name.length > 25) problems.push(`variable ${name} has a name longer than 25 characters`);
    if (RESERVED_VARIABLE_NAMES.has(name.toLowerCase())) problems.push(`variable name ${name} is reserved`);
    if (seen.has(name)) problems.push(`variable ${name} appears twice`);
    seen.add(name);
  }
  if (/\}\s*\$\{/.test(template)) problems.push('two variables are adjacent (only whitespace between them)');
  const fixed = template.replace(PLACEHOLDER, '').replace(/[\s\p{P}\p{S}\d]/gu, '');
  if (names.length > 0 && fixed.length < 2) problems.push('is (almost) only variables');
  return problems;
}

/** `MM-DD HH:mm` in China time (UTC+8, no DST): the `time` variable of the invite. */
export function formatSmsTime(at: Date): string {
  const t = new Date(at.getTime() + 8 * 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(t.getUTCMonth() + 1)}-${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}`;
}
