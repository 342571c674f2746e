import { parseIdNumber, parseResidentId, looksLikeResidentId } from './src/validation/identity.js';
import { parseMobile } from './src/validation/phone.js';
import { parsePlate, isPlateLike } from './src/validation/plate.js';
import { parseDepartureTime } from './src/validation/time.js';
import { withCheck, wrongCheck } from './test/e2e/outside-client.js';
const now = new Date('2026-11-26T02:40:00Z'); // 10:40 Shanghai
type C = [string, () => { ok: boolean; reason?: string; value?: unknown }, boolean];
const id = (t: 1|2|3|4|5|6|7, s: string) => () => parseIdNumber(t, s, now);
const cases: C[] = [
  ['ID 2000-02-29 leap', id(1, withCheck('21010220000229123')), true],
  ['ID 1900-02-29 not leap', id(1, withCheck('21010219000229123')), false],
  ['ID 2100? future', id(1, withCheck('21010221000101123')), false],
  ['ID tomorrow birth', id(1, withCheck('21010220261127123')), false],
  ['ID today birth', id(1, withCheck('21010220261126123')), true],
  ['ID 1899', id(1, withCheck('21010218991231123')), false],
  ['ID 1900-01-01', id(1, withCheck('11010519000101123')), true],
  ['ID X check', id(1, '11010519491231002X'), true],
  ['ID x lower', id(1, '11010519491231002x'), true],
  ['ID wrong check', id(1, wrongCheck('21010219900307123')), false],
  ['ID province 71', id(1, withCheck('71010219900307123')), false],
  ['ID province 81', id(1, withCheck('81000019900307123')), false],
  ['ID province 91', id(1, withCheck('91010219900307123')), false],
  ['ID abolished 210122', id(1, withCheck('21012219800101123')), true],
  ['ID 15 digits', id(1, '210102900307123'), false],
  ['ID month 13', id(1, withCheck('21010219901307123')), false],
  ['ID 0431', id(1, withCheck('21010219900431123')), false],
  ['ID full width', id(1, '４４０３０８１９９９０１１０１５１２'), true],
  ['ID spaces', id(1, '440308 19990110 1512'), true],
  ['HKM H 9', id(2, 'H12345678'), true],
  ['HKM M 11', id(2, 'M1234567801'), true],
  ['HKM 10', id(2, 'H123456789'), false],
  ['HKM C mainland', id(2, 'C12345678'), false],
  ['HKM lower h', id(2, 'h12345678'), true],
  ['TW 8', id(3, '01234567'), true],
  ['TW 10', id(3, '1234567801'), false],
  ['TW 7', id(3, '1234567'), false],
  ['PP E8', id(4, 'E12345678'), true],
  ['PP EA7', id(4, 'EA1234567'), true],
  ['PP EI7', id(4, 'EI1234567'), false],
  ['PP EO7', id(4, 'EO1234567'), false],
  ['PP G8', id(4, 'G12345678'), true],
  ['PP DE7', id(4, 'DE1234567'), true],
  ['PP K8 HKSAR', id(4, 'K12345678'), false],
  ['PP E7', id(4, 'E1234567'), false],
  ['FPR 15 ex', id(5, 'KAZ110090123105'), true],
  ['FPR 15 bad check', id(5, 'KAZ110090123104'), false],
  ['FPR 2023 ex', id(5, '911398199012310021'), true],
  ['FPR 2023 computed', id(5, withCheck('92184019850615001')), true],
  ['FPR 2023 bad check', id(5, wrongCheck('92184019850615001')), false],
  ['FPR 2023 Feb30', id(5, withCheck('92184019850230001')), false],
  ['RP HK', id(6, withCheck('81000019900101123')), true],
  ['RP MO', id(6, withCheck('82000019900101123')), true],
  ['RP TW', id(6, withCheck('83000019900101123')), true],
  ['RP 840000', id(6, withCheck('84000019900101123')), false],
  ['RP 810100', id(6, withCheck('81010019900101123')), false],
  ['RP bad check', id(6, wrongCheck('81000019900101123')), false],
  ['FP free', id(7, 'X1234567'), true],
  ['FP 4', id(7, 'AB12'), false],
  ['FP 21', id(7, 'A12345678901234567890'), false],
  ['ph 1740 5', () => parseMobile('17405123456'), true],
  ['ph 17406', () => parseMobile('17406123456'), false],
  ['ph 1749', () => parseMobile('17491234567'), false],
  ['ph 149', () => parseMobile('14912345678'), true],
  ['ph 192', () => parseMobile('19212345678'), true],
  ['ph 193', () => parseMobile('19312345678'), true],
  ['ph 162', () => parseMobile('16212345678'), true],
  ['ph 154', () => parseMobile('15412345678'), false],
  ['ph 194', () => parseMobile('19412345678'), false],
  ['ph 179', () => parseMobile('17912345678'), false],
  ['ph 161', () => parseMobile('16112345678'), false],
  ['ph 145', () => parseMobile('14512345678'), true],
  ['ph 146 iot', () => parseMobile('14612345678'), false],
  ['ph 148', () => parseMobile('14812345678'), false],
  ['ph 141', () => parseMobile('14112345678'), false],
  ['ph 1701', () => parseMobile('17012345678'), true],
  ['ph 165', () => parseMobile('16512345678'), true],
  ['ph 167', () => parseMobile('16712345678'), true],
  ['ph 166', () => parseMobile('16612345678'), true],
  ['ph 86 bare', () => parseMobile('8613812345678'), true],
  ['ph +86 space', () => parseMobile('+86 138 1234 5678'), true],
  ['ph 0086', () => parseMobile('0086-138-1234-5678'), true],
  ['ph +852', () => parseMobile('+85261234567'), false],
  ['ph landline', () => parseMobile('024-23456789'), false],
  ['ph 12', () => parseMobile('1381234567'), false],
  ['ph fullwidth', () => parseMobile('１３８１２３４５６７８'), true],
  ['pl ord', () => parsePlate('辽A12345'), true],
  ['pl nev small D', () => parsePlate('辽AD12345'), true],
  ['pl nev small F', () => parsePlate('辽AF1234'.concat('5')), true],
  ['pl nev small A ext', () => parsePlate('辽AA12345'), true],
  ['pl nev small L', () => parsePlate('辽AL12345'), false],
  ['pl nev large', () => parsePlate('辽A12345D'), true],
  ['pl nev large F', () => parsePlate('辽A12345F'), true],
  ['pl nev large L', () => parsePlate('辽A12345L'), false],
  ['pl 1D2345', () => parsePlate('辽A1D2345'), false],
  ['pl xue', () => parsePlate('辽A1234学'), true],
  ['pl gua', () => parsePlate('辽B1234挂'), true],
  ['pl 12345xue', () => parsePlate('辽A12345学'), false],
  ['pl I', () => parsePlate('辽A1234I'), false],
  ['pl O serial', () => parsePlate('辽AO1234'), false],
  ['pl letter I', () => parsePlate('辽I12345'), false],
  ['pl dot', () => parsePlate('辽A·12345'), true],
  ['pl lower', () => parsePlate('辽a12345'), true],
  ['pl 6 chars', () => parsePlate('辽A1234'), false],
  ['pl HK', () => parsePlate('粤Z1234港'), true],
  ['pl bad prov', () => parsePlate('台A12345'), false],
  ['pl V', () => parsePlate('辽V12345'), true],
  ['pl fullwidth', () => parsePlate('辽Ａ１２３４５'), true],
  ['t 明天 08:30', () => parseDepartureTime('明天 08:30', now), true],
  ['t tomorrow 8:30', () => parseDepartureTime('tomorrow 08:30', now), true],
  ['t HH:mm later', () => parseDepartureTime('23:59', now), true],
  ['t 7d ok', () => parseDepartureTime('2026-12-03 10:30', now), true],
  ['t 7d+', () => parseDepartureTime('2026-12-03 10:50', now), false],
  ['t 12-03 10:50', () => parseDepartureTime('12-03 10:50', now), false],
  ['t past dated', () => parseDepartureTime('2026-11-26 09:00', now), false],
  ['t 5 min ago dated', () => parseDepartureTime('2026-11-26 10:35', now), false],
  ['t 2/30', () => parseDepartureTime('02-30 08:00', now), false],
  ['t 24:00', () => parseDepartureTime('24:00', now), false],
  ['t 8:60', () => parseDepartureTime('08:60', now), false],
];
let bad = 0;
for (const [name, f, want] of cases) {
  const r = f();
  const flag = r.ok === want ? 'ok ' : 'BAD';
  if (r.ok !== want) bad += 1;
  if (r.ok !== want || process.env.V) console.log(flag, name, JSON.stringify(r).slice(0, 140));
}
console.log('cases', cases.length, 'bad', bad);
const t = (s: string, n: string) => { const r = parseDepartureTime(s, new Date(n)); console.log(n, JSON.stringify(s), r.ok ? (r.value as Date).toISOString() : r.reason); };
t('00:10', '2026-11-26T15:55:00Z'); // 23:55 SH -> 2026-11-27 00:10 SH = 2026-11-26T16:10Z
t('23:59', '2026-11-26T16:05:00Z'); // 00:05 SH 11-27 -> 23:59 11-27 = 2026-11-27T15:59Z
t('明天 00:30', '2026-11-26T15:50:00Z'); // 23:50 SH -> 11-28 00:30 = 2026-11-27T16:30Z
t('明天 08:30', '2026-11-26T16:30:00Z'); // 00:30 SH 11-27 -> 11-28 08:30 = 2026-11-28T00:30Z
t('今天 23:00', '2026-11-26T16:30:00Z');
t('11-27 00:05', '2026-11-26T15:58:00Z');
t('23:55', '2026-11-26T15:57:00Z'); // 23:57 → 2 minutes ago (grace)
t('2026-12-03 23:57', '2026-11-26T15:57:00Z');
t('2026-12-03 23:58', '2026-11-26T15:57:00Z');
t('12-31 08:00', '2026-12-30T00:00:00Z');
t('01-02 08:00', '2026-12-30T00:00:00Z');
