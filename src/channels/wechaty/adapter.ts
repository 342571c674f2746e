import { FileBox } from 'file-box';
import type { Logger } from 'pino';
import { types, type Message } from 'wechaty';
import type { InboundMessage, Reply, UserInput } from '../../contracts/conversation.js';
import type { ConversationService } from '../../conversation/service.js';
import type { Translator } from '../../i18n/i18n.js';
import { renderText } from '../../i18n/render.js';
import { tripQrPng } from './trip-qr.js';

/**
 * The Wechaty channel: a personal or enterprise WeChat account driven by any Wechaty puppet.
 *
 * - 1:1 chats: every message from a contact is a turn (text; anything else is `unsupported`, answered politely).
 * - Rooms (groups): only messages that @-mention the bot, with the mention removed (`@bot 辽A12345` → `辽A12345`).
 *   The session is the talker's, whether they write in the room or privately.
 * - userId = the contact id; the delivery key is `wy-<message id>` (a redelivered message gets the first reply).
 * - Replies: the turn's texts joined into one message (like the OA passive reply), then the trip QR code as a PNG
 *   image (src/channels/wechaty/trip-qr.ts: it holds the 6-digit trip code as text).
 */
export interface WechatyChannelDeps {
  conversation: ConversationService;
  translator: Translator;
  log: Logger;
}

/** The puppet-independent part of a message the channel needs (lets the tests and the demo print what happened). */
export interface WechatyTurn { inbound: InboundMessage; texts: string[]; qrCodes: string[] }

function dedupeKeyOf(messageId: string): string {
  return `wy-${encodeURIComponent(messageId)}`;
}

/** Maps a Wechaty message to a normalized inbound message, or null when the bot should stay silent. */
export async function toInbound(msg: Message): Promise<InboundMessage | null> {
  if (msg.self()) return null;
  const talker = msg.talker();
  const room = msg.room();
  let input: UserInput;
  if (msg.type() === types.Message.Text) {
    if (room) {
      if (!(await msg.mentionSelf())) return null;
      input = { type: 'text', text: (await msg.mentionText()).trim() };
    } else {
      input = { type: 'text', text: msg.text() };
    }
  } else {
    if (room) return null; // pictures and stickers in a group are not for the bot
    input = { type: 'unsupported', what: types.Message[msg.type()] ?? 'unknown' };
  }
  return { channel: 'wechaty', userId: talker.id, dedupeKey: dedupeKeyOf(msg.id), input };
}

export function createWechatyChannel(deps: WechatyChannelDeps) {
  /** Handles one `message` event; returns what was sent (null when the message was not for the bot). */
  async function onMessage(msg: Message): Promise<WechatyTurn | null> {
    const inbound = await toInbound(msg);
    if (!inbound) return null;
    deps.log.info({ channel: 'wechaty', dedupeKey: inbound.dedupeKey, kind: inbound.input.type, room: msg.room() !== undefined }, 'wechaty message');
    const turn = await deps.conversation.handle(inbound);
    const texts = renderTexts(deps.translator, turn.locale, turn.replies);
    const qrCodes = turn.replies.flatMap((r) => (r.type === 'qr' ? [r.tripCode] : []));
    if (texts.length > 0) await msg.say(texts.join('\n\n'));
    // A redelivered message repeats the text but not the image (it was sent with the first delivery).
    if (!turn.duplicate) {
      // Base64, not Buffer: puppets that forward the file (wechaty-puppet-service, the mock) serialize it to JSON.
      for (const code of qrCodes) await msg.say(FileBox.fromBase64((await tripQrPng(code)).toString('base64'), `trip-${code}.png`));
    }
    return { inbound, texts, qrCodes };
  }

  return { onMessage };
}

function renderTexts(translator: Translator, locale: Parameters<Translator['t']>[0], replies: Reply[]): string[] {
  return replies.flatMap((r) => (r.type === 'text' ? [renderText(translator, locale, r)] : []));
}
