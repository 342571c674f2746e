import http from 'node:http';
import Dysmsapi from '@alicloud/dysmsapi20170525';
const mode = { m: 'hang' as string };
const srv = http.createServer((req, res) => {
  console.log(req.method, req.url?.slice(0, 80), req.headers);
  if (mode.m === 'hang') return;
  if (mode.m === '400') { res.writeHead(400, { 'content-type': 'application/json' }); res.end(JSON.stringify({ Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.', RequestId: 'x' })); return; }
  if (mode.m === 'thr') { res.writeHead(400, { 'content-type': 'application/json', 'x-acs-retry-after': '1500' }); res.end(JSON.stringify({ Code: 'Throttling.User', Message: 'Request was denied due to user flow control.', RequestId: 'x' })); return; }
  res.writeHead(503, { 'content-type': 'application/json' }); res.end(JSON.stringify({ Code: 'ServiceUnavailable', Message: 'x', RequestId: 'x' }));
});
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
const port = (srv.address() as any).port;
const C = Dysmsapi.default;
const c = new C({ accessKeyId: 'a', accessKeySecret: 'b', endpoint: `127.0.0.1:${port}`, protocol: 'http', readTimeout: 300, connectTimeout: 300 } as any);
for (const m of ['hang', '400', 'thr', '503']) {
  mode.m = m;
  const t = Date.now();
  try {
    const r = await c.sendSms(new Dysmsapi.SendSmsRequest({ phoneNumbers: '13800000000', signName: 's', templateCode: 'T', templateParam: '{"a":"b"}' }));
    console.log('ok', r);
  } catch (e: any) {
    console.log(m, Date.now() - t, e?.constructor?.name, e?.name, e?.code, e?.statusCode, JSON.stringify(e?.message), Object.keys(e), e?.retryAfter, e?.data);
  }
}
srv.closeAllConnections(); srv.close();
