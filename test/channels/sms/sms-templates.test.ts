import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, SMS_KINDS } from '../../../src/config.js';
import { LOCALES } from '../../../src/contracts/conversation.js';
import { loadCatalogs } from '../../../src/i18n/i18n.js';
import {
  fitParams, formatSmsTime, lintSmsTemplate, maxRenderedLength, renderSms, SMS_MAX_CHARS, SMS_TEMPLATE_VARIABLES,
  SMS_VARIABLE_HARD_MAX, smsLength, smsLocaleTexts, smsSegments, smsTemplateText, templateVariables,
} from '../../../src/channels/sms/sms-templates.js';

/** The signature the service ships with (SMS_SIGN_NAME default). */
const SIGN = loadConfig({}).sms.signName;

/** The longest realistic values per kind, BEFORE fitting: long plates, long place names, long masked names, 18-char IDs. */
const LONGEST: Record<(typeof SMS_KINDS)[number], Record<string, string>[]> = {
  invite: [
    { plate: '辽A12345D', time: '11-26 08:30', from: '呼和浩特东站', to: '乌兰察布市' },
    { plate: '蒙K12345D', time: '12-31 23:59', from: '克孜勒苏柯尔克孜自治州', to: '锡林郭勒盟汽车客运站' },
    { plate: '辽AD12345', time: '01-01 00:00', from: 'Hohhot East Station', to: 'Ulanqab' },
  ],
  ask: Object.values(smsLocaleTexts('zh-CN').items).concat(Object.values(smsLocaleTexts('en').items)).map((item) => ({ item })),
  retry: [
    { reason: '身份证号最后一位不对', example: '210102199003071233' },
    { reason: '手机号应为11位数字', example: '辽宁省沈阳市和平区南京北街1号' },
    { reason: 'Need 11 digits', example: '5 Beijie, Shenyang' },
  ],
  menu: [
    smsLocaleTexts('zh-CN').menus['idType'] ?? { title: '', options: '' },
    smsLocaleTexts('en').menus['idType'] ?? { title: '', options: '' },
  ],
  summary: [
    { name: '欧阳*明', idno: '2101**********123X', phone: '139****1111' },
    { name: '阿依古丽*买买提', idno: '2101**********123X', phone: '139****1111' },
    { name: 'J*** Smithson', idno: 'E1234****', phone: '139****1111' },
  ],
  done: [
    { plate: '辽A12345D', status: '已取消，信息未保存' },
    { plate: '辽A12345D', status: 'cancelled' },
  ],
};

describe('SMS templates: the 70-character contract (signature included)', () => {
  for (const locale of LOCALES) {
    for (const kind of SMS_KINDS) {
      it(`when ${kind} (${locale}) is rendered with every variable at its maximum, then it fits in ${SMS_MAX_CHARS} characters`, () => {
        expect(maxRenderedLength(kind, locale, SIGN)).toBeLessThanOrEqual(SMS_MAX_CHARS);
      });

      it(`when ${kind} (${locale}) is rendered with the longest realistic values, then the text fits and shows the fitted values`, () => {
        for (const params of LONGEST[kind]) {
          const text = renderSms({ kind, params, locale, signName: SIGN });
          expect(text.startsWith(`【${SIGN}】`)).toBe(true);
          expect(smsLength(text), text).toBeLessThanOrEqual(SMS_MAX_CHARS);
          expect(text).not.toContain('${');
        }
      });
    }
  }
});

describe('SMS templates: Alibaba template rules', () => {
  for (const locale of LOCALES) {
    for (const kind of SMS_KINDS) {
      it(`when ${kind} (${locale}) is checked, then it breaks no template rule and uses exactly its declared variables`, () => {
        const template = smsTemplateText(kind, locale);
        expect(lintSmsTemplate(template)).toEqual([]);
        expect(templateVariables(template).sort()).toEqual(Object.keys(SMS_TEMPLATE_VARIABLES[kind]).sort());
      });
    }
  }

  it('when variable maxima are read, then none exceeds the 35-character cap of a template variable', () => {
    for (const kind of SMS_KINDS) {
      for (const spec of Object.values(SMS_TEMPLATE_VARIABLES[kind])) expect(spec.max).toBeLessThanOrEqual(SMS_VARIABLE_HARD_MAX);
    }
  });

  it('when templates break the rules, then the lint names the problem', () => {
    expect(lintSmsTemplate('${a}${b}')).toContain('two variables are adjacent (only whitespace between them)');
    expect(lintSmsTemplate('您好${a} ${b}')).toContain('two variables are adjacent (only whitespace between them)');
    expect(lintSmsTemplate('【签名】您好${name}')).toContain('contains 【】 (reserved for the signature)');
    expect(lintSmsTemplate('沈阳→北京 ${name}')).toContain('contains a special symbol');
    expect(lintSmsTemplate('号码${id}已登记')).toContain('variable name id is reserved');
    expect(lintSmsTemplate('${name}，${x}')).toContain('is (almost) only variables');
  });
});

describe('SMS label texts fill their variables without being cut', () => {
  for (const locale of LOCALES) {
    const texts = smsLocaleTexts(locale);
    const max = (kind: keyof typeof SMS_TEMPLATE_VARIABLES, name: string) =>
      (SMS_TEMPLATE_VARIABLES[kind] as Record<string, { max: number }>)[name]?.max ?? 0;

    it(`when ${locale} labels are measured, then each fits the variable it fills`, () => {
      for (const item of Object.values(texts.items)) expect(smsLength(item), item).toBeLessThanOrEqual(max('ask', 'item'));
      for (const menu of Object.values(texts.menus)) {
        expect(smsLength(menu.title), menu.title).toBeLessThanOrEqual(max('menu', 'title'));
        expect(smsLength(menu.options), menu.options).toBeLessThanOrEqual(max('menu', 'options'));
      }
      for (const reason of Object.values(texts.reasons)) expect(smsLength(reason), reason).toBeLessThanOrEqual(max('retry', 'reason'));
      for (const example of Object.values(texts.examples)) expect(smsLength(example), example).toBeLessThanOrEqual(max('retry', 'example'));
      for (const status of Object.values(texts.statuses)) expect(smsLength(status), status).toBeLessThanOrEqual(max('done', 'status'));
    });

    it(`when ${locale} menus are read, then options are numbered 1, 2, 3… and never use 0, 8 or 9`, () => {
      for (const menu of Object.values(texts.menus)) {
        const numbers = [...menu.options.matchAll(/(?:^|\s)(\d)/g)].map((m) => Number(m[1]));
        expect(numbers).toEqual(numbers.map((_n, i) => i + 1));
        expect(numbers.some((n) => n === 0 || n >= 8)).toBe(false);
      }
    });
  }

  it('when zh-CN and en are compared, then they define the same keys', () => {
    const keys = (locale: (typeof LOCALES)[number]) => {
      const t = smsLocaleTexts(locale);
      return [...SMS_KINDS, ...['items', 'menus', 'reasons', 'examples', 'statuses'].flatMap((group) => Object.keys(t[group as 'items']).map((k) => `${group}.${k}`))].sort();
    };
    expect(keys('en')).toEqual(keys('zh-CN'));
  });

  it('when the locale folder is loaded by the i18n loader, then the sms keys are there in both locales', () => {
    const catalogs = loadCatalogs(fileURLToPath(new URL('../../../locales', import.meta.url)));
    for (const locale of LOCALES) {
      for (const key of ['sms.invite', 'sms.ask', 'sms.retry', 'sms.menu', 'sms.summary', 'sms.done', 'sms.items.name', 'sms.menus.idType.options']) {
        expect(catalogs[locale].has(key), `${locale} ${key}`).toBe(true);
      }
    }
  });
});

describe('SMS conventions are discoverable', () => {
  it('when a zh-CN rider reads ask, retry or menu, then 0 back, 8 help and 9 restart are named', () => {
    for (const kind of ['ask', 'retry', 'menu'] as const) {
      const text = smsTemplateText(kind, 'zh-CN');
      expect(text).toContain('0返回');
      expect(text).toContain('8求助');
      expect(text).toContain('9重填');
    }
  });

  it('when an en rider reads ask, retry or menu, then 0 back and 8 help are named, and ask names 9 restart', () => {
    for (const kind of ['ask', 'retry', 'menu'] as const) {
      expect(smsTemplateText(kind, 'en')).toContain('0 back');
      expect(smsTemplateText(kind, 'en')).toContain('8 help');
    }
    expect(smsTemplateText('ask', 'en')).toContain('9 restart');
  });

  it('when the invite and summary are read, then they ask for 1 to agree / 1 confirm 2 edit 0 back', () => {
    expect(smsTemplateText('invite', 'zh-CN')).toContain('回复1同意');
    expect(smsTemplateText('summary', 'zh-CN')).toContain('回复1确认 2修改 0返回');
  });
});

describe('renderSms reproduces the elderly-rider example', () => {
  const zh = smsLocaleTexts('zh-CN');
  it.each([
    ['ask', { item: zh.items['name'] ?? '' }, '【出行登记】请回复您的姓名。0返回 8求助 9重填'],
    ['menu', zh.menus['idType'] ?? {}, '【出行登记】证件类型，请回复编号：1身份证 2港澳证 3台湾证 4护照 5永居证 6居住证 7外国护照。0返回 8求助 9重填'],
    ['summary', { name: '张*爷', idno: '2101**********123X', phone: '139****1111' }, '【出行登记】请核对：张*爷，2101**********123X，139****1111。回复1确认 2修改 0返回 8求助'],
    ['invite', { plate: '辽A12345', time: '11-26 08:30', from: '沈阳', to: '北京' }, '【出行登记】乘客登记：辽A12345，11-26 08:30发车，沈阳至北京。信息仅用于防疫追踪，到期删除。回复1同意'],
    ['done', { plate: '辽A12345', status: zh.statuses['done'] ?? '' }, '【出行登记】辽A12345乘客登记已完成，祝您一路平安。需要再登记请回复1，有疑问请问乘务员'],
  ] as const)('when %s is rendered, then the phone shows the expected text', (kind, params, expected) => {
    expect(renderSms({ kind, params, locale: 'zh-CN', signName: '出行登记' })).toBe(expected);
  });
});

describe('fitParams', () => {
  it('when values are too long, then each is trimmed by its rule', () => {
    expect(fitParams('invite', { plate: '辽A12345D', time: '11-26 08:30', from: '呼和浩特市', to: '克孜勒苏柯尔克孜自治州' }))
      .toEqual({ plate: '辽A12345D', time: '11-26 08:30', from: '呼和浩特', to: '克孜勒苏柯尔' });
    expect(fitParams('summary', { name: '阿依古丽*买买提', idno: '2101**********123X', phone: '139****1111' }).name).toBe('阿依古丽*提');
  });

  it('when a station name is short, then its suffix is kept', () => {
    expect(fitParams('invite', { plate: '辽A12345', time: '08:30', from: '沈阳北站', to: '北京市' })).toMatchObject({ from: '沈阳北站', to: '北京' });
  });

  it('when values hold numbers, line breaks, 【】 or extra keys, then the result has exactly the template variables as clean strings', () => {
    expect(fitParams('done', { plate: ' 辽A\n12345 ', status: '【已完成】', other: 1 })).toEqual({ plate: '辽A 12345', status: '已完成' });
    expect(fitParams('ask', { item: 42 })).toEqual({ item: '42' });
  });

  it('when a variable is missing or empty, then it throws without echoing values', () => {
    expect(() => fitParams('ask', {})).toThrow('sms ask: variable item is missing');
    expect(() => fitParams('ask', { item: '  ' })).toThrow('sms ask: variable item is empty');
  });

  it('when a value is a link, then it throws (links must be fixed template text)', () => {
    expect(() => fitParams('ask', { item: 'http://x.cn/a' })).toThrow('looks like a link');
    expect(() => fitParams('ask', { item: 'www.example.com' })).toThrow('looks like a link');
  });
});

describe('smsLength and smsSegments', () => {
  it('when text mixes 汉字, ASCII and 【】, then each counts one character (not bytes)', () => {
    expect(smsLength('【出行登记】')).toBe(6);
    expect(smsLength('请回复 1')).toBe(5);
    expect(Buffer.byteLength('【出行登记】')).toBe(18);
  });

  it('when text holds a character outside the BMP, then it counts two (a UTF-16 pair)', () => {
    expect(smsLength('好😀')).toBe(3);
  });

  it('when a text is 70, 71 or 134 characters, then it is billed as 1, 2 or 2 messages', () => {
    expect([smsSegments(70), smsSegments(71), smsSegments(134), smsSegments(135)]).toEqual([1, 2, 2, 3]);
  });
});

describe('formatSmsTime', () => {
  it('when a UTC instant is formatted, then it shows China time as MM-DD HH:mm', () => {
    expect(formatSmsTime(new Date('2026-11-25T16:30:00Z'))).toBe('11-26 00:30');
  });
});
