import { readFileSync } from 'node:fs';
import { OutsideUser, withCheck } from './test/e2e/outside-client.js';
const base = process.argv[2]!; const dataDir = process.argv[3]!;
const token = process.env.QA_TOKEN ?? readFileSync(`${dataDir}/wechat-token`, 'utf8').trim();
const mode = (process.env.QA_MODE ?? 'plain') as 'plain'|'safe';
const script = JSON.parse(process.argv[4]!) as Array<[string, string]>;
const users = new Map<string, OutsideUser>();
for (const [who, text] of script) {
  let u = users.get(who); if (!u) { u = new OutsideUser(base, { token, aesKey: process.env.QA_AES, appId: process.env.QA_APPID }, mode, process.env['QA_OPENID_'+who]); users.set(who, u); }
  const out = text.startsWith('SCAN:') ? await u.scan(text.slice(5)) : await u.say(text);
  console.log(`[${who}] > ${text}\n${out.split('\n').map((l) => '    ' + l).join('\n')}`);
}
