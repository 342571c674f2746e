/**
 * Text clean-up shared by every parser. NFKC folds what Chinese input methods produce (full-width `１２３ＡＢＣ`,
 * the full-width colon `：`, the ideographic space U+3000) into ASCII and leaves Chinese characters alone.
 */

/** Zero-width characters that ride along when text is copied out of chats and web pages. */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/g;
/** Hyphen and dash look-alikes (after NFKC): - ‐ ‑ ‒ – — − */
const DASHES = /[-\u2010-\u2014\u2212]/g;

/** NFKC, invisible characters dropped, trimmed, inner whitespace collapsed to one space. */
export function normalizeText(raw: string): string {
  return raw.normalize('NFKC').replace(INVISIBLE, '').trim().replace(/\s+/g, ' ');
}

/** NFKC with every whitespace, invisible character and hyphen/dash removed: `１３８-１２３４ ５６７８` → `13812345678`. */
export function compact(raw: string): string {
  return raw.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/g, '').replace(DASHES, '');
}

/** Number of code points (a character outside the BMP, such as most emoji, counts once). */
export function charCount(text: string): number {
  return [...text].length;
}
