import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestApp, WechatUser, nextMsgId, type TestApp } from '../helpers/app.js';
import { voiceXml } from '../helpers/wechat-client.js';
import { createSessionStore } from '../../src/conversation/session-store.js';

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

  let ct = 0;
  it('runs', async () => {
    const script = (process.env['EXPLORE'] ?? '').split('|');
    let d = new U(new WechatUser(t.app), 'A');
    for (const line of script) {
      if (line === '#new') { d = new U(new WechatUser(t.app), 'B'); log('---- new user'); continue; }
      if (line.startsWith('#scan ')) { await d.scan(line.slice(6)); continue; }
      if (line === '#voice') { const r = await d.u.post(voiceXml({ from: d.u.openid, msgId: nextMsgId() })); log(`> [voice]\nbot< ${r.body}`); continue; }
      if (line.startsWith('#code')) { const m = /乘车码 (\d{6})|Trip code (\d{6})/.exec(out.join('\n').split('\n').reverse().find((l) => /乘车码 \d{6}|Trip code \d{6}/.test(l)) ?? ''); await d.say(`${line.slice(5)}${m?.[1] ?? m?.[2]}`); continue; }
      if (line === '#age') { const store = createSessionStore(t.services.redis, { prefix: t.env['REDIS_PREFIX'] ?? '', sessionKey: t.services.keys.session }); const id = `wechat:${t.services.userKeyOf('wechat', d.u.openid)}`; const l = await store.load(id); if (l.state) { l.state.updatedAt -= 7200_000; await store.save(id, l.version, l.state, null, ''); } log('---- aged 2h'); continue; }
      const codes = [...out.join('\n').matchAll(/(?:乘车码|Trip code) (\d{6})/g)].map((m) => m[1]!);
      if (line.startsWith('#scanc ')) { await d.u.scan(`trip-${codes[Number(line.slice(7))]}`, true, Math.floor(Date.now() / 1000) + (++ct)).then((r) => log(`> [scan]\nbot< ${r}`)); continue; }
      if (line.startsWith('#sayc ')) { await d.say(`${line.slice(8)}${codes[Number(line.slice(6, 7))]}`); continue; }
      if (line.startsWith('#closec ')) { const trip = await t.services.repos.trips.byCode(codes[Number(line.slice(8))]!); await t.services.repos.trips.setStatus(trip!.id, 'closed' as never); log('---- closed'); continue; }
      if (line.startsWith('#close ')) { const trip = await t.services.repos.trips.byCode(line.slice(7)); await t.services.repos.trips.setStatus(trip!.id, 'closed' as never); log('---- closed'); continue; }
      await d.say(line);
    }
  }, 120000);
});
