import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { parseReportBatch, parseUplinkBatch, reportDedupeKey, uplinkDedupeKey, uplinkToInbound } from '../../../src/channels/sms/uplink.js';
import { smsReportPush, smsUplinkPush } from '../../helpers/aliyun-sms-stub.js';

const PHONE = '13912345678';

function uplink(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { phone_number: PHONE, send_time: '2026-11-26 08:31:02', content: '张大爷', sign_name: '出行登记', dest_code: '1234', sequence_id: 1234567890, ...overrides };
}

describe('parseUplinkBatch', () => {
  it('when sequence_id is a number in one element and a string in another, then both are kept as strings', () => {
    const { items, skipped } = parseUplinkBatch([uplink(), uplink({ sequence_id: '1234567891' })]);

    expect(skipped).toEqual([]);
    expect(items.map((i) => i.sequenceId)).toEqual(['1234567890', '1234567891']);
    expect(items[0]).toEqual({
      phone: PHONE, sendTime: '2026-11-26 08:31:02', sentAt: new Date('2026-11-26T00:31:02Z'), content: '张大爷',
      signName: '出行登记', destCode: '1234', sequenceId: '1234567890',
    });
  });

  it('when sign_name is absent (current doc), then the element is accepted', () => {
    const { sign_name: _omit, ...withoutSign } = uplink();

    const { items } = parseUplinkBatch([withoutSign]);

    expect(items[0]?.signName).toBeUndefined();
  });

  it('when the phone carries +86, 0086 or spaces, then it is normalized to 11 digits', () => {
    const { items } = parseUplinkBatch([uplink({ phone_number: '+8613912345678' }), uplink({ phone_number: '0086 139 1234 5678' }), uplink({ phone_number: '8613912345678' })]);

    expect(items.map((i) => i.phone)).toEqual([PHONE, PHONE, PHONE]);
  });

  it('when one element is malformed, then it is skipped with its index and issues and the others are kept', () => {
    const body = [uplink({ sequence_id: 1 }), uplink({ content: 5, sequence_id: 2 }), 'junk', uplink({ phone_number: '1391234567', sequence_id: 3 }), uplink({ sequence_id: 4 })];

    const { items, skipped } = parseUplinkBatch(body);

    expect(items.map((i) => i.sequenceId)).toEqual(['1', '4']);
    expect(skipped.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(skipped[0]?.issues[0]?.path).toBe('content');
    expect(skipped[2]?.issues).toEqual([{ path: 'phone_number', message: 'expected a mainland mobile number (11 digits starting with 1), got 10 digits' }]);
    expect(JSON.stringify(skipped)).not.toContain('1391234567');
  });

  it('when the body is not an array, then it throws SMS_BAD_BATCH naming what arrived', () => {
    const cases: [unknown, string][] = [
      [uplink(), 'SmsUp push: expected a JSON array of messages, got an object'],
      ['[{"a":1}]', 'SmsUp push: expected a JSON array of messages, got a string (is the Content-Type application/json?)'],
      [null, 'SmsUp push: expected a JSON array of messages, got null'],
      [undefined, 'SmsUp push: expected a JSON array of messages, got no body'],
    ];
    for (const [body, message] of cases) {
      let caught: unknown;
      try { parseUplinkBatch(body); } catch (err: unknown) { caught = err; }
      expect(caught).toBeInstanceOf(InputError);
      expect(caught).toMatchObject({ code: 'SMS_BAD_BATCH', statusCode: 400, message });
    }
  });

  it('when the array is empty, then nothing is parsed and nothing skipped', () => {
    expect(parseUplinkBatch([])).toEqual({ items: [], skipped: [] });
  });

  it('when send_time is in the old compact form or unknown, then sentAt is parsed or null', () => {
    const { items } = parseUplinkBatch([uplink({ send_time: '20261126083102' }), uplink({ send_time: 'yesterday' })]);

    expect(items[0]?.sentAt).toEqual(new Date('2026-11-26T00:31:02Z'));
    expect(items[1]?.sentAt).toBeNull();
  });

  it('when the stub helper builds a push, then it parses cleanly', () => {
    const { items, skipped } = parseUplinkBatch(smsUplinkPush([{ phone: PHONE, content: '1', sequenceId: 77 }, { phone: PHONE, content: '2', sequenceId: '78', signName: '出行登记' }]));

    expect(skipped).toEqual([]);
    expect(items.map((i) => [i.content, i.sequenceId])).toEqual([['1', '77'], ['2', '78']]);
  });
});

describe('uplinkDedupeKey', () => {
  it('when the same message arrives with a numeric and a string sequence_id, then the key is the same', () => {
    const { items } = parseUplinkBatch([uplink({ sequence_id: 1234567890 }), uplink({ sequence_id: '1234567890' })]);

    expect(items.map(uplinkDedupeKey)).toEqual(['sms-1234567890', 'sms-1234567890']);
  });

  it('when there is no sequence_id, then the key hashes phone, send_time and content: stable, distinct, no phone, no colon', () => {
    const { items } = parseUplinkBatch([uplink({ sequence_id: undefined }), uplink({ sequence_id: null }), uplink({ sequence_id: '' }), uplink({ sequence_id: undefined, content: '李四' })]);
    const keys = items.map(uplinkDedupeKey);

    expect(keys[0]).toMatch(/^sms-h[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toBe(keys[0]);
    expect(keys[3]).not.toBe(keys[0]);
    expect(uplinkDedupeKey(items[0] ?? { phone: '', sendTime: '', content: '', sequenceId: undefined })).toBe(keys[0]);
  });

  it('when sequence_id holds unsafe characters, then it is hashed so the key has no colon', () => {
    const { items } = parseUplinkBatch([uplink({ sequence_id: 'a:b/c' })]);

    expect(uplinkDedupeKey(items[0] ?? { phone: '', sendTime: '', content: '', sequenceId: undefined })).toMatch(/^sms-h[0-9a-f]{32}$/);
  });

  it('when any key is built, then it never contains ":" and is never all digits', () => {
    const { items } = parseUplinkBatch([uplink(), uplink({ sequence_id: undefined }), uplink({ sequence_id: '9' })]);
    for (const key of items.map(uplinkDedupeKey)) {
      expect(key).not.toContain(':');
      expect(key).not.toMatch(/^\d+$/);
      expect(key).not.toContain(PHONE);
    }
  });
});

describe('uplinkToInbound', () => {
  it('when an uplink is converted, then the number is the userId and the dedupe key travels with the text', () => {
    const { items } = parseUplinkBatch([uplink({ content: ' 1 ' })]);

    expect(items.map(uplinkToInbound)).toEqual([{ channel: 'sms', userId: PHONE, dedupeKey: 'sms-1234567890', input: { type: 'text', text: '1' } }]);
  });
});

describe('parseReportBatch', () => {
  const report = (overrides: Record<string, unknown> = {}) => ({
    phone_number: PHONE, send_time: '2026-11-26 08:30:00', report_time: '2026-11-26 08:30:05', success: true,
    err_code: 'DELIVERED', err_msg: '用户接收成功', sms_size: '1', biz_id: '900619746936498440^0', out_id: 'msg-1', ...overrides,
  });

  it('when receipts arrive, then success, size and ids are typed', () => {
    const { items, skipped } = parseReportBatch([report(), report({ success: 'false', err_code: 'MK:0001', sms_size: 2, out_id: '' })]);

    expect(skipped).toEqual([]);
    expect(items[0]).toMatchObject({ phone: PHONE, success: true, errCode: 'DELIVERED', smsSize: 1, bizId: '900619746936498440^0', outId: 'msg-1', reportedAt: new Date('2026-11-26T00:30:05Z') });
    expect(items[1]).toMatchObject({ success: false, errCode: 'MK:0001', smsSize: 2, outId: undefined });
  });

  it('when a receipt lacks biz_id, then only it is skipped', () => {
    const { biz_id: _omit, ...noBiz } = report();

    const { items, skipped } = parseReportBatch([noBiz, report()]);

    expect(items).toHaveLength(1);
    expect(skipped).toEqual([{ index: 0, issues: [{ path: 'biz_id', message: expect.any(String) }] }]);
  });

  it('when the body is an object, then it throws SMS_BAD_BATCH', () => {
    expect(() => parseReportBatch(report())).toThrow('SmsReport push: expected a JSON array of messages, got an object');
  });

  it('when the same receipt is pushed twice, then the dedupe key is the same and holds no phone', () => {
    const { items } = parseReportBatch([report(), report(), report({ phone_number: '13800000000' })]);
    const keys = items.map(reportDedupeKey);

    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[0]).toMatch(/^smsr-[0-9a-f]{32}$/);
  });

  it('when the stub helper builds a receipt push, then it parses cleanly', () => {
    const { items, skipped } = parseReportBatch(smsReportPush([{ sent: { phone: PHONE, bizId: '123^0', outId: 'm1' } }, { sent: { phone: PHONE, bizId: '124^0', outId: undefined }, success: false }]));

    expect(skipped).toEqual([]);
    expect(items.map((i) => [i.bizId, i.success, i.outId])).toEqual([['123^0', true, 'm1'], ['124^0', false, undefined]]);
  });
});
