import jsqr from 'jsqr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWechatyChannel } from '../../../src/channels/wechaty/adapter.js';
import { startMockBot, type BotReply, type MockBot, type MockChat } from '../../../src/channels/wechaty/mock-bot.js';
import { decodePng } from '../wechat/png-decode.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';

/** The Wechaty channel end to end: mocked WeChat contacts (wechaty-puppet-mock) ↔ bot ↔ engine ↔ Redis/PostgreSQL. */
describe('Wechaty channel over the mock puppet', () => {
  let t: TestApp;
  let mockBot: MockBot;
  beforeAll(async () => {
    t = await startTestApp();
    const channel = createWechatyChannel({ conversation: t.services.conversation, translator: t.services.translator, log: t.services.log });
    mockBot = await startMockBot(channel, t.services.log);
  });
  afterAll(async () => {
    await mockBot.stop();
    await t.close();
  });

  const texts = (replies: BotReply[]) => replies.flatMap((r) => (r.kind === 'text' ? [r.text] : [])).join('\n');

  async function registerTrip(driver: MockChat, first: (text: string) => Promise<BotReply[]>): Promise<{ code: string; replies: BotReply[] }> {
    expect(texts(await first('辽A12345'))).toContain('多少人');
    for (const [answer, expected] of [['40', '驾驶员姓名'], ['张建国', '手机号'], ['13812345678', '登记人是驾驶员本人吗'], ['1', '乘务员'], ['2', '班次号'],
      ['K1234', '发车时间'], ['明天 08:30', '出发地'], ['沈阳北站', '目的地'], ['大连', '请核对']] as const) {
      expect(texts(await driver.say(answer))).toContain(expected);
    }
    const replies = await driver.say('1');
    const code = /乘车码 (\d{6})/.exec(texts(replies))?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    return { code, replies };
  }

  it('when a driver registers a trip in a 1:1 chat, then the bot answers each step and sends the trip QR code as a PNG holding the trip code', async () => {
    const driver = mockBot.contact('张师傅');
    const { code, replies } = await registerTrip(driver, (text) => driver.say(text));
    const image = replies.find((r) => r.kind === 'image');
    expect(image?.kind === 'image' && image.name).toBe(`trip-${code}.png`);
    const png = image?.kind === 'image' ? image.png : Buffer.alloc(0);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const { rgba, width, height } = decodePng(png);
    expect(jsqr.default(rgba, width, height)?.data).toBe(code);
    expect(await t.services.repos.trips.byCode(code)).not.toBeNull();
  });

  it('when a passenger sends the trip code, then they register through the same questions and appear on the roster', async () => {
    const driver = mockBot.contact('李师傅');
    const { code } = await registerTrip(driver, (text) => driver.say(text));
    const passenger = mockBot.contact('王小明');
    const consent = texts(await passenger.say(code));
    expect(consent).toContain('辽A12345');
    expect(consent).toContain('回复 1 同意');
    expect(texts(await passenger.say('1'))).toContain('姓名');
    expect(texts(await passenger.say('王小明'))).toContain('证件类型');
    expect(texts(await passenger.say('210102199003071234'))).toContain('最后一位');
    expect(texts(await passenger.say('210102199003071233'))).toContain('手机号');
    const summary = texts(await passenger.say('139 1234 5678'));
    expect(summary).toContain('2101**********1233');
    expect(summary).not.toContain('13912345678');
    expect(texts(await passenger.say('1'))).toContain('登记完成');
    const trip = await t.services.repos.trips.byCode(code);
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster.map((p) => [p.name, p.channel])).toEqual([['王小明', 'wechaty']]);
  });

  it('when a driver @-mentions the bot in a group, then the mention is stripped and the trip flow starts; without a mention the bot stays silent', async () => {
    const driver = mockBot.contact('赵师傅');
    const group = mockBot.room('沈阳北站司机群', [driver]);
    expect(await group.say(driver, '辽B54321', { mention: false })).toEqual([]);
    const started = texts(await group.say(driver, '辽B54321'));
    expect(started).toContain('辽B54321');
    expect(started).toContain('多少人');
    expect(texts(await group.say(driver, '四十'))).toContain('例如 40');
  });

  it('when a contact asks for help outside any flow, then the bot answers in plain words', async () => {
    const rider = mockBot.contact('陈阿姨');
    const reply = texts(await rider.say('帮助'));
    expect(reply.length).toBeGreaterThan(0);
    expect(reply).not.toMatch(/error|undefined|\{/i);
  });
});
