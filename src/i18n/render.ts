import type { Locale, TextParams, TextRef } from '../contracts/conversation.js';
import type { Translator } from './i18n.js';

/** Renders a locale reference, translating nested references; lists of references join with new lines. */
export function renderText(translator: Translator, locale: Locale, ref: TextRef): string {
  return translator.t(locale, ref.key, ref.params ? renderParams(translator, locale, ref.params) : undefined);
}

function renderParams(translator: Translator, locale: Locale, params: TextParams): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.map((ref) => renderText(translator, locale, ref)).join('\n');
    else out[name] = renderText(translator, locale, value);
  }
  return out;
}
