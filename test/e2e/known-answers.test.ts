import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { OutsideUser, withCheck, wrongCheck } from './outside-client.js';

/**
 * Known-answer validation cases built from ../shared/reference/identity.md (check digits computed here, edge dates,
 * 2023 permanent residence IDs, permit lengths, NEV and 学/挂 plates, new mobile segments, departure times around
 * now in Asia/Shanghai and the 7-day limit), driven through the conversation over the signed webhook: each value is
 * accepted (the next question comes) or refused with the specific message for what is wrong.
 */
const NEXT = Symbol('accepted');
type Expect = typeof NEXT | string;

/** Shanghai wall-clock `YYYY-MM-DD HH:mm` of an instant. */
const shanghai = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe('known-answer validation through the conversation', () => {
  let t: TestApp;
  let base = '';
  let tripCode = '';
  const user = () => new OutsideUser(base, { token: TEST_TOKEN }, 'plain');

  beforeAll(async () => {
    t = await startTestApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const driver = user();
    for (const a of ['辽A12345', '40', '张建国', '13812345678', '1', '2', '无', '明天 08:30', '沈阳北站', '大连']) await driver.say(a);
    tripCode = /乘车码 (\d{6})/.exec(await driver.say('1'))?.[1] ?? '';
    expect(tripCode).toMatch(/^\d{6}$/);
  });
  afterAll(async () => { await t.close(); });

  /** A passenger standing at the document-number question for menu type `type`. */
  async function atIdNumber(type: number): Promise<OutsideUser> {
    const p = user();
    await p.say(tripCode);
    await p.say('1');
    await p.say('王小明');
    expect(await p.say(String(type))).toContain('号码？');
    return p;
  }

  const idCases: [string, number, string, Expect][] = [
    ['leap day 2000-02-29', 1, withCheck('21010220000229123'), NEXT],
    ['1900 is not a leap year', 1, withCheck('21010219000229123'), '出生日期'],
    ['born 1899', 1, withCheck('21010218991231123'), '出生日期'],
    ['born 1900-01-01', 1, withCheck('11010519000101123'), NEXT],
    ['born in the future', 1, withCheck('21010221000101123'), '出生日期'],
    ['April 31st', 1, withCheck('21010219900431123'), '出生日期'],
    ['check character X', 1, '11010519491231002X', NEXT],
    ['check character x in lower case', 1, '11010519491231002x', NEXT],
    ['a wrong check character', 1, wrongCheck('21010219900307123'), '最后一位'],
    ['province 71 (Taiwan, never issued)', 1, withCheck('71010219900307123'), '前两位'],
    ['province 81 (a residence permit)', 1, withCheck('81000019900307123'), '前两位'],
    ['an abolished county code 210122', 1, withCheck('21012219800101123'), NEXT],
    ['a 15-digit first-generation number', 1, '210102900307123', '18位'],
    ['full-width digits', 1, '４４０３０８１９９９０１１０１５１２', NEXT],
    ['spaces inside', 1, '440308 19990110 1512', NEXT],
    ['17 digits', 1, '44030819990110151', '18位'],
    ['HK permit, 9 characters', 2, 'H12345678', NEXT],
    ['Macau permit, 11 characters', 2, 'M1234567801', NEXT],
    ['HK permit in lower case', 2, 'h12345678', NEXT],
    ['HK permit with 10 characters', 2, 'H123456789', 'H或M'],
    ['a mainland resident\'s permit to HK (C)', 2, 'C12345678', '内地居民往来港澳'],
    ['Taiwan permit, 8 digits starting with 0', 3, '01234567', NEXT],
    ['Taiwan permit, 10 digits', 3, '1234567801', '8位数字'],
    ['Taiwan permit, 7 digits', 3, '1234567', '8位数字'],
    ['passport E + 8 digits', 4, 'E12345678', NEXT],
    ['passport E + letter + 7 digits', 4, 'EJ1234567', NEXT],
    ['passport E + I', 4, 'EI1234567', '护照号码'],
    ['passport E + O', 4, 'EO1234567', '护照号码'],
    ['passport G + 8 digits', 4, 'G12345678', NEXT],
    ['diplomatic passport DE', 4, 'DE1234567', NEXT],
    ['HKSAR passport K in the PRC passport field', 4, 'K12345678', '护照号码'],
    ['2023 permanent residence ID (public example)', 5, '911398199012310021', NEXT],
    ['2023 permanent residence ID (check computed)', 5, withCheck('92184019850615001'), NEXT],
    ['2023 permanent residence ID, wrong check', 5, wrongCheck('92184019850615001'), '最后一位'],
    ['2023 permanent residence ID, Feb 30', 5, withCheck('92184019850230001'), '出生日期'],
    ['2004/2017 permanent residence ID', 5, 'KAZ110090123105', NEXT],
    ['2004/2017 permanent residence ID, wrong check', 5, 'KAZ110090123104', '最后一位'],
    ['HK residence permit', 6, withCheck('81000019900101123'), NEXT],
    ['Taiwan residence permit', 6, withCheck('83000019900101123'), NEXT],
    ['residence permit 840000', 6, withCheck('84000019900101123'), '810000'],
    ['residence permit, wrong check', 6, wrongCheck('82000019900101123'), '最后一位'],
    ['foreign passport', 7, 'X1234567', NEXT],
    ['foreign passport, 4 characters', 7, 'AB12', '5到20位'],
  ];

  it.each(idCases)('document: %s', async (_what, type, number, expected) => {
    const p = await atIdNumber(type);
    const reply = await p.say(number);
    if (expected === NEXT) expect(reply).toContain('手机号');
    else { expect(reply).toContain(expected); expect(reply).not.toContain('您的手机号？'); }
  });

  it('document: an 18-character resident ID sent at the type menu is taken as type 1, a residence permit is not', async () => {
    const p = user();
    await p.say(tripCode);
    await p.say('1');
    await p.say('王小明');
    expect(await p.say(withCheck('81000019900101123'))).not.toContain('手机号');
    expect(await p.say(withCheck('21010219900307123'))).toContain('手机号');
  });

  const phoneCases: [string, string, Expect][] = [
    ['1740 0-5 (Telecom)', '17405123456', NEXT],
    ['17406 (emergency communications)', '17406123456', '前三位'],
    ['1749 (satellite)', '17491234567', '前三位'],
    ['149', '14912345678', NEXT],
    ['192 (Broadnet)', '19212345678', NEXT],
    ['193', '19312345678', NEXT],
    ['162', '16212345678', NEXT],
    ['154 (not allocated)', '15412345678', '前三位'],
    ['146 (IoT)', '14612345678', '前三位'],
    ['+86 with spaces', '+86 139 1234 5678', NEXT],
    ['0086 with hyphens', '0086-139-1234-5678', NEXT],
    ['86 then 11 digits', '8613912345678', NEXT],
    ['+852', '+85261234567', '中国大陆'],
    ['a Shenyang landline', '024-23456789', '座机'],
    ['10 digits', '1391234567', '11位'],
  ];

  it.each(phoneCases)('phone: %s', async (_what, phone, expected) => {
    const p = await atIdNumber(1);
    expect(await p.say(withCheck('21010219900307123'))).toContain('手机号');
    const reply = await p.say(phone);
    if (expected === NEXT) expect(reply).toContain('请核对');
    else expect(reply).toContain(expected);
  });

  const plateCases: [string, string, Expect][] = [
    ['ordinary', '辽A12345', NEXT],
    ['with the separator dot and lower case', '辽a·12345', NEXT],
    ['full-width', '辽Ａ１２３４５', NEXT],
    ['small NEV, pure electric D', '辽AD12345', NEXT],
    ['small NEV, extended letter A', '辽AA12345', NEXT],
    ['small NEV, hybrid F', '辽BF1234'.concat('5'), NEXT],
    ['large NEV (buses), D last', '辽A12345D', NEXT],
    ['large NEV, K last', '辽N12345K', NEXT],
    ['coach 学', '辽A1234学', NEXT],
    ['trailer 挂', '辽B1234挂', NEXT],
    ['Beijing', '京A12345', NEXT],
    ['NEV letter L (not a NEV letter)', '辽AL12345', '格式不对'],
    ['letter in the middle', '辽A1D2345', '格式不对'],
    ['学 after five characters', '辽A12345学', '格式不对'],
    ['I in the serial', '辽A1234I', '字母I和O'],
    ['issuing letter I', '辽I12345', '第二位'],
    ['six characters', '辽A1234', '7位'],
  ];

  it.each(plateCases)('plate: %s', async (_what, plate, expected) => {
    const reply = await user().say(plate);
    if (expected === NEXT) expect(reply).toContain('多少人');
    else expect(reply).not.toContain('多少人');
  });

  // A mistyped plate sent to start a trip gets the plate's specific message, not the general welcome.
  it.each(plateCases.filter(([, , e]) => e !== NEXT))('plate near miss gets the specific message: %s', async (_what, plate, expected) => {
    expect(await user().say(plate)).toContain(expected);
  });

  it('departure times around now in Asia/Shanghai: accepted, past, too far', async () => {
    const driver = user();
    for (const a of ['辽A12345', '40', '张建国', '13812345678', '1', '2', '无']) await driver.say(a);
    const now = Date.now();
    const cases: [string, Expect][] = [
      ['明天 08:30', NEXT],
      ['tomorrow 23:59', NEXT],
      ['后天 08:30', NEXT],
      [shanghai(now + 2 * 60 * MIN).slice(11), NEXT],
      [shanghai(now - MIN).slice(11), NEXT], // HH:mm a minute ago = the next such time, tomorrow
      [shanghai(now + DAY).slice(5), NEXT], // MM-DD HH:mm
      [shanghai(now + 7 * DAY - 5 * MIN), NEXT],
      [shanghai(now + 7 * DAY + 5 * MIN), '7天之内'],
      [shanghai(now - 5 * MIN), '已经过了'],
      [shanghai(now - DAY), '已经过了'],
      ['02-30 08:00', '没有这一天'],
      ['24:00', '没看懂'],
      ['8', '没看懂'],
      ['明天', '没看懂'],
    ];
    for (const [text, expected] of cases) {
      const reply = await driver.say(text);
      if (expected === NEXT) {
        expect(reply, text).toContain('出发地');
        expect(await driver.say('返回'), text).toContain('发车时间');
      } else {
        expect(reply, text).toContain(expected);
      }
    }
    // A minute ago, as HH:mm: the summary shows tomorrow's date.
    const clock = shanghai(now - MIN);
    await driver.say(clock.slice(11));
    await driver.say('沈阳北站');
    const summary = await driver.say('大连');
    const tomorrow = shanghai(now - MIN + DAY);
    expect(summary).toContain(`${tomorrow.slice(5, 10)} ${clock.slice(11)}`);
  });
});
