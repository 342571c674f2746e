import { describe, expect, it } from 'vitest';
import type { Reply, TextReply } from '../../src/contracts/conversation.js';
import { buildRegistry } from '../../src/engine/registry.js';
import type { ConversationState } from '../../src/engine/state.js';
import { step, type EngineContext, type EngineInput, type Outcome } from '../../src/engine/step.js';
import { PARSERS } from '../../src/conversation/parsers.js';
import { ALL_FLOWS } from '../../flows/all-flows.js';

/** The engine as a pure function: no database, no Redis, an injected clock. */
const ACTIONS = ['loadTrip', 'loadSavedProfile', 'matchPreregistration', 'registerPassenger', 'createTrip', 'loadLastTrip', 'requireStaff', 'requireStationStaff', 'loadRoster', 'markArrivals', 'enrollStaff', 'sendSmsInvite'];
const registry = buildRegistry(ALL_FLOWS, { parsers: PARSERS, actions: new Set(ACTIONS), hasKey: () => true });
const NOW = new Date('2026-11-26T00:00:00Z'); // 08:00 in Asia/Shanghai

function ctx(overrides: Partial<EngineContext> = {}): EngineContext {
  return { now: NOW, channel: 'wechat', defaultLocale: 'zh-CN', registry, parsers: PARSERS, sessionTtlMs: 1_800_000, ...overrides };
}
const text = (t: string): EngineInput => ({ type: 'text', text: t });
const keys = (replies: Reply[]) => replies.map((r) => (r.type === 'text' ? r.key : `qr:${r.tripCode}`));

/** Runs inputs in order, answering every action call with `results[action]` (default ok). */
function run(inputs: EngineInput[], results: Record<string, Parameters<typeof step>[2]> = {}, context = ctx()): { state: ConversationState | null; last: Outcome; all: Outcome[] } {
  let state: ConversationState | null = null;
  const all: Outcome[] = [];
  for (const input of inputs) {
    let outcome = step(context, state, input);
    const replies = [...outcome.replies];
    while (outcome.call) {
      const result = results[outcome.call.action] ?? { type: 'result', result: { ok: true } };
      outcome = step(context, outcome.state, result);
      replies.push(...outcome.replies);
    }
    outcome = { ...outcome, replies };
    all.push(outcome);
    state = outcome.state;
  }
  const last = all[all.length - 1];
  if (!last) throw new Error('no input');
  return { state, last, all };
}

describe('engine step', () => {
  it('when a plate arrives with no conversation, then the driver flow starts at the passenger count', () => {
    const { last } = run([text('辽A12345')]);
    expect(keys(last.replies)).toEqual(['driver.passengerCount.prompt']);
    expect(last.state.values['plate']).toBe('辽A12345');
  });

  it('when the passenger count is not a number, then the retry names the problem and the step stays', () => {
    const { last } = run([text('辽A12345'), text('四十')]);
    expect(keys(last.replies)).toEqual(['validation.passengerCount.format']);
    expect(last.state.step).toBe('passengerCount');
  });

  it('when the same step fails twice, then the retry adds the help hint', () => {
    const { last } = run([text('辽A12345'), text('四十'), text('abc')]);
    expect(keys(last.replies)).toEqual(['common.retry_with_hint']);
  });

  it('when the registrant is the driver, then the registrant questions are skipped', () => {
    const { last } = run([text('辽A12345'), text('40'), text('张建国'), text('13812345678'), text('1')]);
    expect(keys(last.replies)).toEqual(['driver.hasCrew.prompt']);
  });

  it('when back is sent, then the previous question is asked again', () => {
    const { last } = run([text('辽A12345'), text('40'), text('张建国'), text('返回')]);
    expect(keys(last.replies)).toEqual(['driver.driverName.prompt']);
  });

  it('when 0 is sent at the first question, then it says there is nothing before', () => {
    const { last } = run([text('辽A12345'), text('0')]);
    expect(keys(last.replies)).toEqual(['common.cannot_go_back', 'driver.passengerCount.prompt']);
  });

  it('when cancel is sent, then the flow ends and nothing is asked', () => {
    const { last } = run([text('辽A12345'), text('取消')]);
    expect(keys(last.replies)).toEqual(['common.cancelled']);
    expect(last.state.flow).toBeNull();
  });

  it('when English is sent mid-flow, then the locale switches and the question is asked again', () => {
    const { last } = run([text('辽A12345'), text('English')]);
    expect(last.state.locale).toBe('en');
    expect(keys(last.replies)).toEqual(['common.language_switched', 'driver.passengerCount.prompt']);
  });

  const fullDriver = ['辽A12345', '40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站', '北京'].map(text);

  it('when every driver answer is valid, then the summary lists the items with the phone masked', () => {
    const { last } = run(fullDriver);
    const summary = last.replies[0] as TextReply;
    expect(summary.key).toBe('driver.summary.prompt');
    expect(JSON.stringify(summary.params)).toContain('138****5678');
    expect(JSON.stringify(summary.params)).not.toContain('13812345678');
  });

  it('when 2 then an item number is sent at the summary, then that question is asked and the summary comes back after it', () => {
    const { last: editing } = run([...fullDriver, text('2'), text('6')]);
    expect(keys(editing.replies)).toEqual(['driver.departureAt.prompt']);
    const { last } = run([...fullDriver, text('2 6'), text('09:15')]);
    expect(keys(last.replies)).toEqual(['driver.summary.prompt']);
    expect(last.state.values['departureAt']).toBe('2026-11-26T01:15:00.000Z');
  });

  it('when the summary is confirmed, then createTrip runs and the done message carries the QR code', () => {
    const created = { type: 'result' as const, result: { ok: true as const, vars: { trip: { id: '00000000-0000-4000-8000-000000000001', code: '482913' } } } };
    const { last } = run([...fullDriver, text('1')], { createTrip: created });
    expect(keys(last.replies)).toEqual(['driver.done', 'qr:482913']);
    expect(last.state.flow).toBeNull();
  });

  it('when a trip QR code is scanned, then the passenger flow loads the trip and asks for consent', () => {
    const { last } = run([{ type: 'scan', scene: 'trip-482913' }]);
    expect(keys(last.replies)).toEqual(['passenger.consent.prompt']);
    expect(last.state.vars['scene']).toBe('trip-482913');
  });

  it('when the passenger declines consent, then the flow ends and no action runs', () => {
    const { last } = run([{ type: 'scan', scene: 'trip-482913' }, text('2')]);
    expect(keys(last.replies)).toEqual(['passenger.consentDeclined']);
    expect(last.call).toBeNull();
    expect(last.state.flow).toBeNull();
  });

  it('when an 18-character resident ID is sent at the document menu, then it is taken as type 1 and its number', () => {
    const noSaved = { type: 'result' as const, result: { ok: false as const, code: 'none' } };
    const { last } = run([{ type: 'scan', scene: 'trip-482913' }, text('1'), text('王小明'), text('210102199003071233')], { loadSavedProfile: noSaved, matchPreregistration: noSaved });
    expect(last.state.values['idType']).toBe('1');
    expect(last.state.values['idNumber']).toBe('210102199003071233');
    expect(keys(last.replies)).toEqual(['passenger.phone.prompt']);
  });

  it('when a session has been idle past its TTL, then the next text offers to resume instead of answering', () => {
    const { state } = run([text('辽A12345')]);
    const later = ctx({ now: new Date(NOW.getTime() + 2 * 3_600_000) });
    const outcome = step(later, state, text('40'));
    expect(keys(outcome.replies)).toEqual(['common.resume_offer']);
    const resumed = step(later, outcome.state, text('1'));
    expect(keys(resumed.replies)).toEqual(['driver.passengerCount.prompt']);
  });

  it('when an SMS rider answers 1 at the phone question, then the sender number is used', () => {
    const smsCtx = ctx({ channel: 'sms', sender: { phone: '13912345678' } });
    const noSaved = { type: 'result' as const, result: { ok: false as const, code: 'none' } };
    const { last } = run([{ type: 'start', flow: 'passenger', vars: {} }, text('1'), text('张大爷'), text('210102195001011239'), text('1')], { loadSavedProfile: noSaved, matchPreregistration: noSaved }, smsCtx);
    expect(last.state.values['phone']).toBe('13912345678');
    expect(keys(last.replies)).toEqual(['passenger.summary.prompt']);
  });
});
