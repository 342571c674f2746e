import { describe, expect, it } from 'vitest';
import { passengerFlow } from '../../../flows/passenger.js';
import { ALL_FLOWS } from '../../../flows/all-flows.js';
import { renderReply, renderTurn, SMS_REPLY_TABLE } from '../../../src/channels/sms/sms-render.js';
import { renderSms, smsLength, SMS_MAX_CHARS } from '../../../src/channels/sms/sms-templates.js';
import { PARSERS } from '../../../src/conversation/parsers.js';
import { buildRegistry } from '../../../src/engine/registry.js';
import { createTranslator, loadCatalogs } from '../../../src/i18n/i18n.js';
import { LOCALES_DIR } from '../../../src/services.js';
import type { Reply } from '../../../src/contracts/conversation.js';

const translator = createTranslator(loadCatalogs(LOCALES_DIR));
const registry = buildRegistry(ALL_FLOWS, { parsers: PARSERS, actions: new Set(['loadTrip', 'loadSavedProfile', 'matchPreregistration', 'registerPassenger', 'createTrip', 'loadLastTrip', 'requireStaff', 'requireStationStaff', 'loadRoster', 'markArrivals', 'enrollStaff', 'sendSmsInvite']), hasKey: () => true });
const ctx = { translator, registry, plate: '辽A12345' };

/** Every reply key the passenger flow can emit on SMS: its prompts, option ends, parser rejections, engine texts. */
function passengerKeys(): string[] {
  const keys = new Set<string>();
  type LooseStep = { kind: string; prompt?: string; parse?: string; options?: readonly { end?: string }[]; shortcut?: { parse: string } };
  for (const step of passengerFlow.steps as readonly LooseStep[]) {
    if (step.prompt) keys.add(step.prompt);
    for (const o of step.options ?? []) if (o.end) keys.add(o.end);
    for (const name of [step.parse, step.shortcut?.parse]) {
      const parser = name ? PARSERS[name] : undefined;
      if (parser) for (const reason of parser.reasons) keys.add(`${parser.messages}.${reason}`);
    }
  }
  for (const key of ['common.invalid_choice', 'common.summary_choice', 'common.edit_which', 'common.edit_invalid', 'common.retry_with_hint', 'common.too_many_retries', 'common.cancelled', 'common.resume_offer', 'common.action_failed']) keys.add(key);
  return [...keys].sort();
}

const SAMPLE_PARAMS = {
  trip_plate: '辽A12345', trip_time: '11-26 08:30', trip_route: '沈阳北站→大连', trip_id: 'x', trip_code: '123456',
  f_name: '王*明', f_idNumber: '2101**********1233', f_phone: '139****5678',
  saved_name: '王小明', saved_idNumber: '210102199003071233', saved_phone: '13912345678',
  problem: { key: 'validation.mobile.length', params: { got: 9 } }, max: 3, menu: { key: 'passenger.name.prompt' },
  items: [{ key: 'common.summary_item', params: { n: 1, label: { key: 'passenger.items.name' }, value: '王*明' } }, { key: 'common.summary_item', params: { n: 2, label: { key: 'passenger.items.idType' }, value: 'x' } }],
};

describe('SMS rendering of engine replies', () => {
  it.each(passengerKeys())('when the passenger flow says %s on SMS, then it maps to a template within 70 characters', (key) => {
    const rendered = renderReply({ type: 'text', key, params: SAMPLE_PARAMS }, ctx);
    expect(rendered, key).not.toBeNull();
    if (!rendered) return;
    const text = renderSms({ kind: rendered.kind, params: rendered.params, locale: 'zh-CN', signName: '出行登记' });
    expect(smsLength(text), text).toBeLessThanOrEqual(SMS_MAX_CHARS);
  });

  it('when a turn restarts and asks for the name, then one SMS asks for the name', () => {
    const replies: Reply[] = [{ type: 'text', key: 'common.restarted' }, { type: 'text', key: 'passenger.name.prompt', params: SAMPLE_PARAMS }];
    expect(renderTurn(replies, ctx)).toEqual({ kind: 'ask', params: { item: '姓名' }, role: 'question' });
  });

  it('when an answer is rejected with a hint, then the retry template names the reason and an example', () => {
    const replies: Reply[] = [{ type: 'text', key: 'common.retry_with_hint', params: { problem: { key: 'validation.idNumber.resident_id.checksum' } } }];
    expect(renderTurn(replies, ctx)).toEqual({ kind: 'retry', params: { reason: '身份证号最后一位不对', example: '210102199003071233' }, role: 'rejection' });
  });

  it('when a returning rider is offered saved details, then the summary shows them masked', () => {
    const rendered = renderReply({ type: 'text', key: 'passenger.useSaved.prompt', params: SAMPLE_PARAMS }, ctx);
    expect(rendered?.params).toEqual({ name: '王*明', idno: '2101**********1233', phone: '139****5678' });
  });

  it('when a cancel carries no trip, then the closing SMS uses the known plate', () => {
    expect(renderTurn([{ type: 'text', key: 'common.cancelled' }], ctx)?.params).toEqual({ plate: '辽A12345', status: '已取消，信息未保存' });
  });

  it('when a turn only greets (idle number), then no SMS is sent', () => {
    expect(renderTurn([{ type: 'text', key: 'common.welcome' }], ctx)).toBeNull();
  });

  it('when a key of another flow is not in the table, then the step kind decides the template', () => {
    expect(renderReply({ type: 'text', key: 'driver.driverName.prompt' }, ctx)?.kind).toBe('ask');
    expect(renderReply({ type: 'text', key: 'driver.hasCrew.prompt' }, ctx)?.kind).toBe('menu');
    expect(Object.keys(SMS_REPLY_TABLE)).toContain('passenger.consent.prompt');
  });
});
