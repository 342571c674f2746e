import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FlowDefinitionError } from '../errors.js';
import { LOCALES, type Locale } from '../contracts/conversation.js';

/**
 * Texts live in locales/<locale>/<area>.json; a key is `<area>.<path>` (the file name is the first segment).
 * Values may contain {name} placeholders filled from params.
 */
export type Catalog = ReadonlyMap<string, string>;
export interface Translator {
  t(locale: Locale, key: string, params?: Record<string, string | number>): string;
  has(locale: Locale, key: string): boolean;
  keys(locale: Locale): string[];
}

function flatten(prefix: string, value: unknown, into: Map<string, string>, file: string): void {
  if (typeof value === 'string') { into.set(prefix, value); return; }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v, into, file);
    return;
  }
  throw new FlowDefinitionError(`${file}: ${prefix} must be a string or an object of strings`);
}

export function loadCatalogs(dir: string): Record<Locale, Catalog> {
  const out = {} as Record<Locale, Catalog>;
  for (const locale of LOCALES) {
    const folder = join(dir, locale);
    const map = new Map<string, string>();
    for (const name of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
      const file = join(folder, name);
      if (!statSync(file).isFile()) continue;
      const area = name.slice(0, -'.json'.length);
      flatten(area, JSON.parse(readFileSync(file, 'utf8')) as unknown, map, file);
    }
    out[locale] = map;
  }
  return out;
}

const PLACEHOLDER = /\{(\w+)\}/g;

export function createTranslator(catalogs: Record<Locale, Catalog>): Translator {
  return {
    t(locale, key, params) {
      const text = catalogs[locale].get(key) ?? catalogs['zh-CN'].get(key);
      if (text === undefined) throw new FlowDefinitionError(`missing locale key ${key}`);
      if (!params) return text;
      return text.replace(PLACEHOLDER, (whole, name: string) => (name in params ? String(params[name]) : whole));
    },
    has: (locale, key) => catalogs[locale].has(key),
    keys: (locale) => [...catalogs[locale].keys()],
  };
}
