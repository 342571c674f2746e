/**
 * Masks for every output of sensitive values (DESIGN "Data the service keeps"): identity `2101**********123X`,
 * phone `138****5678`, name `张*三`. Pure functions; they never throw on odd input.
 */

function stars(n: number): string {
  return '*'.repeat(Math.max(0, n));
}

/** Keeps `keep` characters at each end and stars the middle; short values keep less so most of them is hidden. */
function keepEnds(chars: string[], keep: number): string {
  return chars.slice(0, keep).join('') + stars(chars.length - 2 * keep) + chars.slice(chars.length - keep).join('');
}

/** `210102199001011234` → `2101**********1234`; shorter documents (passports, permits) keep 2 (or 1) at each end. */
export function maskIdNumber(value: string): string {
  const chars = Array.from(value.trim());
  const n = chars.length;
  if (n >= 12) return keepEnds(chars, 4);
  if (n >= 8) return keepEnds(chars, 2);
  if (n >= 3) return keepEnds(chars, 1);
  return stars(n);
}

/** `13812345678` → `138****5678`; `+86` and separators are dropped first. */
export function maskPhone(value: string): string {
  let digits = value.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  const chars = Array.from(digits);
  const n = chars.length;
  if (n >= 11) return chars.slice(0, 3).join('') + stars(n - 7) + chars.slice(n - 4).join('');
  if (n >= 7) return keepEnds(chars, 2);
  if (n >= 2) return stars(n - 1) + chars.slice(n - 1).join('');
  return stars(n);
}

const LATIN_NAME = /^[\p{Script=Latin}\s.'’-]+$/u;

/**
 * Chinese names: 2 characters `王*`, 3 `张*三`, 4+ first + stars + last (`欧**锋`, `阿依古丽·买买提` → `阿*****提`).
 * Latin names: the first letter of each word, then `*` (`John Smith` → `J* S*`).
 */
export function maskName(value: string): string {
  const name = value.trim().replace(/\s+/g, ' ');
  if (name === '') return '';
  if (LATIN_NAME.test(name)) {
    return name.split(' ').map((word) => `${Array.from(word)[0] ?? ''}*`).join(' ');
  }
  const chars = Array.from(name);
  const n = chars.length;
  if (n === 1) return '*';
  if (n === 2) return `${chars[0] ?? ''}*`;
  return keepEnds(chars, 1);
}

const MUNICIPALITIES = ['北京', '上海', '天津', '重庆', '香港', '澳门'];
// Head parts never span street-level words, so `和平区南京街市场` does not pass for a city.
const PROVINCE = /^([^区县路街道号镇乡村\d\s]{2,8}?(?:省|自治区|特别行政区))/u;
const CITY = /^([^区县路街道号镇乡村\d\s]{1,10}?(?:市|自治州|地区|盟))/u;

/**
 * Keeps the province / city head of a Chinese address and hides the rest: `辽宁省沈阳市和平区南京街1号` → `辽宁省沈阳市…`,
 * `北京市朝阳区…` → `北京市…`. Without a recognisable head only the first two characters remain.
 */
export function maskAddress(value: string): string {
  const address = value.trim();
  if (address === '') return '';
  let head = '';
  let rest = address;
  const municipality = MUNICIPALITIES.find((m) => rest.startsWith(m));
  if (municipality) {
    head = rest.startsWith(`${municipality}市`) ? `${municipality}市` : municipality;
    rest = rest.slice(head.length);
  } else {
    const province = PROVINCE.exec(rest)?.[1];
    if (province) {
      head = province;
      rest = rest.slice(province.length);
    }
    const city = CITY.exec(rest)?.[1];
    if (city) {
      head += city;
      rest = rest.slice(city.length);
    }
  }
  if (head === '') {
    const chars = Array.from(address);
    return chars.length <= 4 ? '…' : `${chars.slice(0, 2).join('')}…`;
  }
  return rest === '' ? head : `${head}…`;
}

export { userKey } from './keys.js';
