import { describe, expect, it } from 'vitest';
import { PLACE_MAX_LENGTH, cityName, isBeijing, resolvePlace } from '../../src/validation/places.js';

describe('resolvePlace: the prefecture-level city of a place', () => {
  it.each([
    ['a station named after its city', '沈阳北站', '210100', '沈阳市', '21'],
    ['a bare city name', '沈阳', '210100', '沈阳市', '21'],
    ['a city name with 市', '大连市', '210200', '大连市', '21'],
    ['a municipality (its cities.json entry is 市辖区)', '北京', '110100', '北京市', '11'],
    ['a municipality with a district', '北京朝阳', '110100', '北京市', '11'],
    ['a full address in Beijing', '北京市朝阳区建国路2号', '110100', '北京市', '11'],
    ['a bare 朝阳 (a Liaoning city and a Beijing district): the city', '朝阳', '211300', '朝阳市', '21'],
    ['朝阳区 (Beijing and Changchun): the lowest code, Beijing', '朝阳区', '110100', '北京市', '11'],
    ['朝阳县: the county of 朝阳市', '朝阳县', '211300', '朝阳市', '21'],
    ['a province and 朝阳', '辽宁朝阳', '211300', '朝阳市', '21'],
    ['a city and one of its county-level cities', '锦州北镇', '210700', '锦州市', '21'],
    ['a bare county-level city', '北镇', '210700', '锦州市', '21'],
    ['和平区 (Shenyang and Tianjin): Liaoning first', '和平区', '210100', '沈阳市', '21'],
    ['a full address whose street is named after another city', '辽宁省沈阳市和平区南京北街1号', '210100', '沈阳市', '21'],
    ['a city and a district named after another city (大连中山区 vs 中山市)', '大连中山区', '210200', '大连市', '21'],
    ['吉林 (a province and a city): the city', '吉林', '220200', '吉林市', '22'],
    ['吉林长春: the province then its capital', '吉林长春', '220100', '长春市', '22'],
    ['an autonomous prefecture by its short name', '延边', '222400', '延边朝鲜族自治州', '22'],
    ['Chongqing (municipality)', '重庆北站', '500100', '重庆市', '50'],
    ['a Chongqing county (县 group)', '巫山县', '500100', '重庆市', '50'],
    ['Shanghai Pudong', '浦东', '310100', '上海市', '31'],
    ['a county-level city governed by its province', '济源', '419001', '济源市', '41'],
    ['a Xinjiang county-level city governed by the region', '石河子', '659001', '石河子市', '65'],
    ['spaces and full-width characters', ' 沈阳　北站 ', '210100', '沈阳市', '21'],
    ['a 盟', '锡林郭勒盟', '152500', '锡林郭勒盟', '15'],
  ])('when the place is %s, then the city is resolved', (_b, raw, cityCode, name, provinceCode) => {
    const result = resolvePlace(raw);
    expect(result).toEqual({
      ok: true,
      value: { text: raw.normalize('NFKC').trim().replace(/\s+/g, ' '), cityCode, cityName: name, provinceCode, beijing: cityCode === '110100' },
    });
  });
});

describe('resolvePlace: rejected places', () => {
  it.each([
    ['a station without a city', '南站'],
    ['only a province', '辽宁'],
    ['海南 (a province, not 乌海\'s 海南区 nor 海南藏族自治州)', '海南'],
    ['a city name in pinyin', 'Shenyang'],
    ['a generic district name', '城区'],
    ['nothing', ''],
  ])('when it is %s, then the city is unknown', (_b, raw) => {
    expect(resolvePlace(raw)).toEqual({ ok: false, reason: 'unknown' });
  });
  it('when the text is longer than the limit, then it is too long', () => {
    expect(resolvePlace(`沈阳${'北'.repeat(PLACE_MAX_LENGTH)}`)).toEqual({ ok: false, reason: 'too_long', params: { max: 50 } });
  });
  it('when the text is exactly at the limit, then it is resolved', () => {
    expect(resolvePlace(`沈阳${'站'.repeat(PLACE_MAX_LENGTH - 2)}`).ok).toBe(true);
  });
});

describe('resolvePlace: Beijing flag', () => {
  it('when the destination is in Beijing, then beijing is true', () => {
    const result = resolvePlace('北京南站');
    expect(result.ok && result.value.beijing).toBe(true);
  });
  it('when the destination is outside Beijing, then beijing is false', () => {
    const result = resolvePlace('大连北站');
    expect(result.ok && result.value.beijing).toBe(false);
  });
});

describe('cityName and isBeijing', () => {
  it.each([
    ['210100', '沈阳市'],
    ['211400', '葫芦岛市'],
    ['110100', '北京市'],
    ['500100', '重庆市'],
    ['419001', '济源市'],
    ['999999', undefined],
    ['210102', undefined],
  ])('when the code is %s, then the name is %s', (code, expected) => {
    expect(cityName(code)).toBe(expected);
  });
  it.each([['110100', true], ['110105', true], ['210100', false], ['120100', false]])('when the code is %s, then isBeijing is %s', (code, expected) => {
    expect(isBeijing(code)).toBe(expected);
  });
});

describe('resolvePlace: speed', () => {
  it('when resolving a long address 2000 times, then it takes well under a second', () => {
    const started = performance.now();
    for (let i = 0; i < 2000; i += 1) resolvePlace('辽宁省沈阳市和平区南京北街1号附近的客运站');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
