import type { SmsKind } from '../../config.js';
import type { Locale, Reply, TextParam, TextParams } from '../../contracts/conversation.js';
import type { FlowRegistry } from '../../engine/registry.js';
import type { Translator } from '../../i18n/i18n.js';
import { renderText } from '../../i18n/render.js';
import { maskIdNumber, maskName, maskPhone } from '../../security/mask.js';
import { smsLocaleTexts, type SmsLocaleTexts } from './sms-templates.js';

/**
 * Maps one engine turn (its replies: locale keys + params) to exactly ONE approved SMS template + params.
 *
 * SMS is one question per message: a turn that says several things (`common.restarted` + the name question, a help
 * text + the re-asked question) is sent as its LAST meaningful reply; a rejection (a `validation.*` key, a wrong menu
 * number, `common.retry_with_hint`) becomes the `retry` template with a short reason and an example; pure chatter
 * (welcome, help, "language switched") is dropped. A turn with nothing meaningful sends no SMS (returns null).
 *
 * The table `SMS_REPLY_TABLE` is keyed by reply key; keys not in it fall back by prefix (`validation.*` → retry) or by
 * the kind of the step the key prompts for (collect → ask, choice → menu, summary → summary, message → done), looked
 * up in the flow registry. SMS riders get zh-CN templates: SMS_TEMPLATES maps one approved code per kind, whose text is
 * the zh-CN one, so params are always filled from the zh-CN label texts (`sms.items.*` …), whatever the session locale.
 */

export type SmsRole = 'question' | 'rejection' | 'end';
export interface RenderedSms { kind: SmsKind; params: Record<string, string>; role: SmsRole }

export interface SmsRenderContext {
  translator: Translator;
  /** For the per-step-kind fallback. */
  registry?: FlowRegistry | undefined;
  /** The plate of the rider's trip when the replies no longer carry it (after a cancel). */
  plate?: string | undefined;
}

/** The locale of every SMS text (see the module comment). */
export const SMS_LOCALE: Locale = 'zh-CN';

type Entry = (params: TextParams, ctx: Ctx) => RenderedSms | null;
interface Ctx extends SmsRenderContext { texts: SmsLocaleTexts }

function text(ctx: Ctx, value: TextParam | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map((r) => renderText(ctx.translator, SMS_LOCALE, r)).join(' ');
  return renderText(ctx.translator, SMS_LOCALE, value);
}

function nonEmpty(value: string, fallback: string): string {
  return value.trim() === '' ? fallback : value;
}

const ask = (item: string): Entry => (_p, ctx) => ({ kind: 'ask', params: { item: ctx.texts.items[item] ?? ctx.texts.items['other'] ?? item }, role: 'question' });
const menu = (name: string): Entry => (_p, ctx) => {
  const m = ctx.texts.menus[name];
  return m ? { kind: 'menu', params: { title: m.title, options: m.options }, role: 'question' } : null;
};
const retry = (reason: string, example: string): Entry => (_p, ctx) => ({
  kind: 'retry',
  params: { reason: ctx.texts.reasons[reason] ?? ctx.texts.reasons['other'] ?? reason, example: ctx.texts.examples[example] ?? ctx.texts.examples['choice'] ?? '1' },
  role: 'rejection',
});
const done = (status: string): Entry => (p, ctx) => ({
  kind: 'done',
  params: { plate: nonEmpty(text(ctx, p['trip_plate']), ctx.plate ?? ctx.texts.items['trip'] ?? '-'), status: ctx.texts.statuses[status] ?? status },
  role: 'end',
});
const skip: Entry = () => null;

function invite(p: TextParams, ctx: Ctx): RenderedSms {
  const route = text(ctx, p['trip_route']);
  const [from = route, to = route] = route.split('→');
  const fallback = ctx.texts.items['trip'] ?? '-';
  return {
    kind: 'invite',
    params: { plate: nonEmpty(text(ctx, p['trip_plate']), fallback), time: nonEmpty(text(ctx, p['trip_time']), '-'), from: nonEmpty(from, '-'), to: nonEmpty(to, '-') },
    role: 'question',
  };
}

function summaryOf(name: string, idno: string, phone: string, ctx: Ctx): RenderedSms {
  const none = ctx.translator.t(SMS_LOCALE, 'common.none');
  return { kind: 'summary', params: { name: nonEmpty(name, none), idno: nonEmpty(idno, none), phone: nonEmpty(phone, none) }, role: 'question' };
}

/** The numbered items of `common.edit_which` as `1姓名 2证件 …` (labels of the summary, short). */
function editMenu(p: TextParams, ctx: Ctx): RenderedSms {
  const items = Array.isArray(p['items']) ? p['items'] : [];
  const options = items.map((line) => {
    const n = line.params?.['n'];
    const label = line.params?.['label'];
    return `${String(n ?? '')}${text(ctx, label)}`;
  }).filter((s) => s !== '').join(' ');
  const m = ctx.texts.menus['edit'];
  return { kind: 'menu', params: { title: m?.title ?? '-', options: nonEmpty(options, m?.options ?? '1') }, role: 'question' };
}

/** A rejection (`validation.*` or a choice error) → the retry template's reason and example. */
export function retryFor(key: string): { reason: string; example: string } {
  if (key.startsWith('validation.personName.')) return { reason: 'nameFormat', example: 'name' };
  if (key === 'validation.idNumber.resident_id.checksum') return { reason: 'idChecksum', example: 'idCard' };
  if (key === 'validation.idNumber.resident_id.length') return { reason: 'idLength', example: 'idCard' };
  if (key.startsWith('validation.idNumber.resident_id.')) return { reason: 'idFormat', example: 'idCard' };
  if (key.startsWith('validation.idNumber.')) return { reason: 'idFormat', example: 'idNumber' };
  if (key.startsWith('validation.mobile.')) return { reason: 'phoneFormat', example: 'phone' };
  if (key === 'validation.address.too_long') return { reason: 'tooLong', example: 'addressBefore' };
  if (key.startsWith('validation.address.')) return { reason: 'address', example: 'addressBefore' };
  if (key.startsWith('validation.tripCode.')) return { reason: 'tripCode', example: 'tripCode' };
  if (key === 'common.invalid_choice' || key === 'common.summary_choice' || key === 'common.edit_invalid' || key.startsWith('validation.idType.') || key.startsWith('validation.menuChoice.')) {
    return { reason: 'notAChoice', example: 'choice' };
  }
  return { reason: 'other', example: 'choice' };
}

function rejection(key: string): Entry {
  const { reason, example } = retryFor(key);
  return retry(reason, example);
}

/** A wrapped rejection (`{problem}` param): the retry of the problem's own key. */
const wrapped: Entry = (p, ctx) => {
  const problem = p['problem'];
  const key = problem && typeof problem === 'object' && !Array.isArray(problem) ? problem.key : '';
  return rejection(key)(p, ctx);
};

/**
 * Every reply key the passenger flow (and the engine around it) can emit on SMS, and its template.
 * test/channels/sms/sms-render.test.ts walks flows/passenger*.ts and checks each of their keys is covered.
 */
export const SMS_REPLY_TABLE: Readonly<Record<string, Entry>> = {
  'passenger.consent.prompt': invite,
  'passenger.useSaved.prompt': (p, ctx) => summaryOf(
    maskName(text(ctx, p['saved_name'])), maskIdNumber(text(ctx, p['saved_idNumber'])), text(ctx, p['saved_phone']) === '' ? '' : maskPhone(text(ctx, p['saved_phone'])), ctx,
  ),
  'passenger.name.prompt': ask('name'),
  'passenger.idType.prompt': menu('idType'),
  'passenger.idNumber.prompt': ask('idNumber'),
  'passenger.phoneSelf.prompt': menu('phoneSelf'),
  'passenger.phone.prompt': ask('phone'),
  'passenger.addressBefore.prompt': ask('addressBefore'),
  'passenger.addressBeijing.prompt': ask('addressBeijing'),
  'passenger.summary.prompt': (p, ctx) => summaryOf(text(ctx, p['f_name']), text(ctx, p['f_idNumber']), text(ctx, p['f_phone']), ctx),
  'passenger.done': done('done'),
  'passenger.alreadyRegistered': done('done'),
  'passenger.consentDeclined': done('declined'),
  'passenger.tripClosed': done('closed'),
  'passenger.tripNotFound': retry('tripCode', 'tripCode'),
  'common.cancelled': done('cancelled'),
  'common.action_failed': done('failed'),
  'common.invalid_choice': rejection('common.invalid_choice'),
  'common.summary_choice': rejection('common.summary_choice'),
  'common.edit_invalid': rejection('common.edit_invalid'),
  'common.edit_which': editMenu,
  'common.retry_with_hint': wrapped,
  'common.too_many_retries': wrapped,
  'common.command_usage': wrapped,
  'common.resume_offer': menu('resume'),
  // Chatter: the question that follows in the same turn is what goes out.
  'common.welcome': skip,
  'common.help': skip,
  'common.help_sms': skip,
  'common.restarted': skip,
  'common.cannot_go_back': skip,
  'common.language_switched': skip,
  'common.busy': skip,
  'common.unsupported': skip,
};

/** The fallback for a key not in the table: by prefix, then by the kind of the step it prompts for. */
function fallback(key: string, ctx: Ctx): Entry | null {
  if (key.startsWith('validation.') || key.startsWith('parsers.')) return rejection(key);
  const [flowId = '', stepId = ''] = key.split('.');
  const step = ctx.registry?.flows.get(flowId)?.byId.get(stepId);
  if (!step) return null;
  switch (step.kind) {
    case 'collect': return ask(step.field);
    case 'choice': return (p, c) => menu(step.id)(p, c) ?? { kind: 'menu', params: { title: c.texts.items['other'] ?? '-', options: step.options.map((o) => o.value).join(' ') }, role: 'question' };
    case 'summary': return (p, c) => summaryOf(text(c, p['f_name']), text(c, p['f_idNumber']), text(c, p['f_phone']), c);
    case 'message': return done('done');
    case 'action': return null;
    default: {
      const never: never = step;
      return never;
    }
  }
}

/** One reply → its template, or null (chatter, QR images, unknown keys). */
export function renderReply(reply: Reply, context: SmsRenderContext): RenderedSms | null {
  if (reply.type !== 'text') return null;
  const ctx: Ctx = { ...context, texts: smsLocaleTexts(SMS_LOCALE) };
  const entry = SMS_REPLY_TABLE[reply.key] ?? fallback(reply.key, ctx);
  return entry ? entry(reply.params ?? {}, ctx) : null;
}

/** One turn → exactly one SMS (the last meaningful reply), or null when the turn says nothing worth an SMS. */
export function renderTurn(replies: readonly Reply[], context: SmsRenderContext): RenderedSms | null {
  let chosen: RenderedSms | null = null;
  for (const reply of replies) chosen = renderReply(reply, context) ?? chosen;
  return chosen;
}


