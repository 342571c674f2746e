import type { EventEmitter } from 'node:events';
import { types, WechatyBuilder, type Wechaty } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import type { Logger } from 'pino';
import type { createWechatyChannel } from './adapter.js';

/**
 * The Wechaty channel over `wechaty-puppet-mock`: a logged-in bot and mocked contacts and rooms that talk to it. Used
 * by `npm run wechaty -- --demo` and by the end-to-end tests. `say()` resolves once the bot has handled the message
 * and answered, with what the bot sent back into that chat.
 */
export type BotReply = { kind: 'text'; text: string } | { kind: 'image'; name: string; png: Buffer };

export interface MockChat {
  readonly id: string;
  readonly name: string;
  /** A 1:1 message to the bot. */
  say(text: string): Promise<BotReply[]>;
}

export interface MockRoom {
  readonly id: string;
  /** A message in the room from `member`; with `mention` the bot is @-mentioned (`@boardroll …`). */
  say(member: MockChat, text: string, options?: { mention?: boolean }): Promise<BotReply[]>;
}

export interface MockBot {
  bot: Wechaty;
  selfName: string;
  contact(name: string): MockChat;
  room(topic: string, members: MockChat[]): MockRoom;
  stop(): Promise<void>;
}

type Channel = ReturnType<typeof createWechatyChannel>;
type Waiter = { resolve: () => void; reject: (err: unknown) => void };

export async function startMockBot(channel: Channel, log: Logger, selfName = 'boardroll'): Promise<MockBot> {
  const mocker = new mock.Mocker();
  const bot = WechatyBuilder.build({ name: `boardroll-mock-${Date.now()}`, puppet: new PuppetMock({ mocker }) });
  const waiters = new Map<string, Waiter[]>();
  const contacts = new Map<string, mock.ContactMock>();

  bot.on('message', async (msg) => {
    if (msg.self()) return;
    const talkerId = msg.talker().id;
    const waiter = waiters.get(talkerId)?.shift();
    try {
      await channel.onMessage(msg);
      waiter?.resolve();
    } catch (err) {
      log.error({ err }, 'wechaty message failed');
      waiter?.reject(err);
    }
  });
  await bot.start();
  mocker.scan('mock-login-qr', 1);
  const self = mocker.createContact({ name: selfName });
  mocker.login(self);

  async function collect(source: EventEmitter, send: () => void, talkerId: string): Promise<BotReply[]> {
    const received: mock.MessageMock[] = [];
    const listener = (m: mock.MessageMock) => { if (m.talker().id === self.id) received.push(m); };
    source.on('message', listener);
    try {
      const done = new Promise<void>((resolve, reject) => {
        const list = waiters.get(talkerId) ?? [];
        list.push({ resolve, reject });
        waiters.set(talkerId, list);
      });
      send();
      await done;
    } finally {
      source.off('message', listener);
    }
    const replies: BotReply[] = [];
    for (const m of received) {
      if (m.type() === types.Message.Text) replies.push({ kind: 'text', text: m.text() ?? '' });
      else {
        const box = await m.toFileBox();
        replies.push({ kind: 'image', name: box.name, png: await box.toBuffer() });
      }
    }
    return replies;
  }

  return {
    bot,
    selfName,
    contact(name) {
      const contact = mocker.createContact({ name });
      contacts.set(contact.id, contact);
      return {
        id: contact.id,
        name,
        say: (text) => collect(contact as unknown as EventEmitter, () => contact.say(text).to(self), contact.id),
      };
    },
    room(topic, members) {
      const room = mocker.createRoom({ topic, memberIdList: [self.id, ...members.map((m) => m.id)] });
      return {
        id: room.id,
        say(member, text, options = {}) {
          const contact = contacts.get(member.id);
          if (!contact) throw new Error(`${member.name} is not a contact of this mock bot`);
          const mention = options.mention ?? true;
          return collect(room as unknown as EventEmitter, () => contact.say(mention ? `@${selfName} ${text}` : text, mention ? [self] : []).to(room), member.id);
        },
      };
    },
    async stop() {
      await bot.stop();
    },
  };
}
