import { describe, expect, it } from 'vitest';
import { maskAddress, maskIdNumber, maskName, maskPhone } from '../../src/security/mask.js';

describe('maskIdNumber', () => {
  it.each([
    ['21010219900101123X', '2101**********123X'],
    ['210102900101123', '2101*******1123'],
    ['E12345678', 'E1*****78'],
    ['H1234567', 'H1****67'],
    ['AB123', 'A***3'],
    ['12', '**'],
    ['', ''],
  ])('when the number is %s, then it shows %s', (input, expected) => {
    expect(maskIdNumber(input)).toBe(expected);
  });
});

describe('maskPhone', () => {
  it.each([
    ['13812345678', '138****5678'],
    ['+86 138 1234 5678', '138****5678'],
    ['85291234567', '852****4567'],
    ['91234567', '91****67'],
    ['110', '**0'],
  ])('when the phone is %s, then it shows %s', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});

describe('maskName', () => {
  it.each([
    ['王五', '王*'],
    ['张三丰', '张*丰'],
    ['欧阳娜娜', '欧**娜'],
    ['阿依古丽·买买提', '阿******提'],
    ['李', '*'],
    ['John Smith', 'J* S*'],
    ['  Mary  Ann   Lee ', 'M* A* L*'],
    ['José', 'J*'],
    ['', ''],
  ])('when the name is %s, then it shows %s', (input, expected) => {
    expect(maskName(input)).toBe(expected);
  });
});

describe('maskAddress', () => {
  it.each([
    ['辽宁省沈阳市和平区南京街1号', '辽宁省沈阳市…'],
    ['北京市朝阳区建国路2号', '北京市…'],
    ['北京朝阳区建国路2号', '北京…'],
    ['内蒙古自治区呼和浩特市新城区', '内蒙古自治区呼和浩特市…'],
    ['吉林省延边朝鲜族自治州延吉市', '吉林省延边朝鲜族自治州…'],
    ['和平区南京街市场1号', '和平…'],
    ['沈阳市', '沈阳市'],
    ['家里', '…'],
    ['', ''],
  ])('when the address is %s, then it shows %s', (input, expected) => {
    expect(maskAddress(input)).toBe(expected);
  });
});
