/** The normalized shapes that flow between channel adapters, the conversation service and the engine. */
export type ChannelName = 'wechat' | 'sms' | 'wechaty' | 'simulator';
export type Locale = 'zh-CN' | 'en';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

/** What a user did, independent of the channel. */
export type UserInput =
  | { type: 'text'; text: string }
  /** A trip QR code was scanned (OA `subscribe` with `qrscene_…`, or `SCAN`); scene is the bare scene string. */
  | { type: 'scan'; scene: string }
  /** A plain follow (no QR scene). */
  | { type: 'follow' }
  /** Image, voice, location…: something the flows cannot read. */
  | { type: 'unsupported'; what: string };

export interface InboundMessage {
  channel: ChannelName;
  /** Stable id of the sender within the channel: OA openid, mobile number, wechaty contact id. */
  userId: string;
  /** Idempotency key of this delivery: `wx-<MsgId>`, `wxev-<from>-<createTime>`, `sms-<sequence>`… */
  dedupeKey: string;
  input: UserInput;
}

/** A piece of text to translate: a locale key plus parameters, which may themselves be texts (lists join with new lines). */
export interface TextRef { key: string; params?: TextParams }
export type TextParam = string | number | TextRef | TextRef[];
export type TextParams = Record<string, TextParam>;
/** Text is always a locale key plus parameters; channels render it. */
export interface TextReply { type: 'text'; key: string; params?: TextParams }
/** The trip's QR code: sent as an image (OA: through the customer-service API from a worker). */
export interface QrReply { type: 'qr'; tripId: string; tripCode: string }
export type Reply = TextReply | QrReply;
