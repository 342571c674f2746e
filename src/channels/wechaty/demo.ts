import type { Services } from '../../services.js';
import type { BotReply, MockBot, MockChat } from './mock-bot.js';

/**
 * The `npm run wechaty -- --demo` script: over the mock puppet, a driver registers a trip in a 1:1 chat, then a
 * passenger registers with the trip code, as two mocked WeChat contacts. Returns the transcript lines and whether the
 * passenger ended up on the trip's roster.
 */
export interface DemoResult { lines: string[]; tripCode: string | null; registered: number }

const DRIVER_SCRIPT = ['辽A12345', '40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站', '北京', '1'];
const passengerScript = (code: string) => [code, '1', '王小明', '210102199003071233', '13912345678', '辽宁省沈阳市和平区南京北街1号', '北京市朝阳区建国路2号', '1'];

export async function runWechatyDemo(services: Services, mockBot: MockBot): Promise<DemoResult> {
  const lines: string[] = [];
  const show = (who: string, replies: BotReply[]) => {
    for (const r of replies) {
      const text = r.kind === 'text' ? r.text : `[图片 ${r.name}, ${r.png.length} 字节]`;
      lines.push(...text.split('\n').map((line, i) => `${i === 0 ? `${mockBot.selfName} → ${who}:` : ' '.repeat(mockBot.selfName.length + who.length + 4)} ${line}`));
    }
  };
  async function play(chat: MockChat, script: string[]): Promise<BotReply[]> {
    let last: BotReply[] = [];
    for (const text of script) {
      lines.push(`${chat.name}: ${text}`);
      last = await chat.say(text);
      show(chat.name, last);
    }
    return last;
  }

  const driver = mockBot.contact('张师傅');
  lines.push('— 司机（微信好友）登记班次 —');
  const done = await play(driver, DRIVER_SCRIPT);
  // The trip QR image is named after the trip code (trip-<code>.png).
  const code = done.flatMap((r) => (r.kind === 'image' ? [/^trip-(\d{6})\.png$/.exec(r.name)?.[1]] : [])).find((c) => c !== undefined) ?? null;
  if (!code) return { lines, tripCode: null, registered: 0 };

  const passenger = mockBot.contact('王小明');
  lines.push('', `— 乘客（微信好友）发送乘车码 ${code} 登记 —`);
  await play(passenger, passengerScript(code));

  const trip = await services.repos.trips.byCode(code);
  const counts = trip ? await services.repos.passengers.counts(trip.id) : { registered: 0 };
  lines.push('', `trip ${code}: ${counts.registered} passenger(s) registered`);
  return { lines, tripCode: code, registered: counts.registered };
}
