import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestApp, WechatUser, nextMsgId, type TestApp } from '../helpers/app.js';
import { voiceXml } from '../helpers/wechat-client.js';

const out: string[] = [];
function log(s: string) { out.push(s); }

class U {
  constructor(readonly u: WechatUser, readonly tag: string) {}
  async say(t: string) { const r = await this.u.say(t); log(`${this.tag}> ${t}\nbot< ${r.replaceAll('\n', '\n     ')}  [${Buffer.byteLength(r)}B]`); return r; }
  async scan(s: string) { const r = await this.u.scan(s); log(`${this.tag}> [scan ${s}]\nbot< ${r.replaceAll('\n', '\n     ')}`); return r; }
}

describe('explore', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); const fs = await import('node:fs'); fs.writeFileSync('.tmp/explore.txt', out.join('\n')); });

  it('runs', async () => {
    const script = (process.env['EXPLORE'] ?? '').split('|');
    let d = new U(new WechatUser(t.app), 'A');
    for (const line of script) {
      if (line === '#new') { d = new U(new WechatUser(t.app), 'B'); log('---- new user'); continue; }
      if (line.startsWith('#scan ')) { await d.scan(line.slice(6)); continue; }
      if (line === '#voice') { const r = await d.u.post(voiceXml({ from: d.u.openid, msgId: nextMsgId() })); log(`> [voice]\nbot< ${r.body}`); continue; }
      if (line.startsWith('#code')) { const m = /乘车码 (\d{6})|Trip code (\d{6})/.exec(out.join('\n').split('\n').reverse().find((l) => /乘车码 \d{6}|Trip code \d{6}/.test(l)) ?? ''); await d.say(`${line.slice(5)}${m?.[1] ?? m?.[2]}`); continue; }
      if (line.startsWith('#scancode')) { continue; }
      await d.say(line);
    }
  }, 120000);
});
