import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAliyunSmsStub, type AliyunSmsStub } from '../../helpers/aliyun-sms-stub.js';

/**
 * The stand-in itself, driven by the raw SDK so that requests the app would never build (missing variables, number
 * values, tampered queries) can be checked to get the service's answers.
 */
const require = createRequire(import.meta.url);
const Dysmsapi = require('@alicloud/dysmsapi20170525') as typeof import('@alicloud/dysmsapi20170525');
const { $OpenApiUtil } = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core');

const AK = 'ak-stub';
const SECRET = 'sk-stub';
const SIGN = '出行登记';
const TEMPLATE = 'SMS_100';

let stub: AliyunSmsStub;

function client(secret = SECRET) {
  return new Dysmsapi.default(new $OpenApiUtil.Config({ accessKeyId: AK, accessKeySecret: secret, endpoint: stub.endpoint, protocol: 'http', readTimeout: 2000, connectTimeout: 2000 }));
}

async function send(fields: Record<string, string>, secret = SECRET) {
  const response = await client(secret).sendSms(new Dysmsapi.SendSmsRequest({ phoneNumbers: '13912345678', signName: SIGN, templateCode: TEMPLATE, ...fields }));
  return response.body;
}

beforeAll(async () => {
  stub = await startAliyunSmsStub({ accessKeyId: AK, accessKeySecret: SECRET, signName: SIGN, templates: { [TEMPLATE]: '请回复您的${item}，例如${example}' } });
});
afterAll(() => stub.close());

describe('startAliyunSmsStub', () => {
  it('when TemplateParam has tricky characters, then the signature still verifies and the text is recorded', async () => {
    const body = await send({ templateParam: JSON.stringify({ item: "姓名 *!'()~+&=", example: '王 小明\n' }), outId: 'o-1' });

    expect(body).toMatchObject({ code: 'OK', message: 'OK' });
    expect(body?.bizId).toMatch(/^\d{18}\^0$/);
    expect(stub.sent.at(-1)).toMatchObject({ text: "【出行登记】请回复您的姓名 *!'()~+&=，例如王 小明\n", outId: 'o-1', bizId: body?.bizId });
  });

  it('when a template variable has no value, then it answers isv.TEMPLATE_MISSING_PARAMETERS', async () => {
    expect(await send({ templateParam: JSON.stringify({ item: '姓名' }) })).toMatchObject({ code: 'isv.TEMPLATE_MISSING_PARAMETERS' });
  });

  it('when a value is a number, then it answers isv.INVALID_JSON_PARAM', async () => {
    expect(await send({ templateParam: JSON.stringify({ item: '姓名', example: 123 }) })).toMatchObject({ code: 'isv.INVALID_JSON_PARAM' });
  });

  it('when a value is longer than 35 characters, then it answers isv.PARAM_LENGTH_LIMIT', async () => {
    expect(await send({ templateParam: JSON.stringify({ item: '姓名', example: 'x'.repeat(36) }) })).toMatchObject({ code: 'isv.PARAM_LENGTH_LIMIT' });
  });

  it('when the sign or template is unknown, then it answers the illegal-signature / illegal-template codes', async () => {
    expect(await send({ signName: '别的签名', templateParam: '{}' })).toMatchObject({ code: 'isv.SMS_SIGNATURE_ILLEGAL' });
    expect(await send({ templateCode: 'SMS_404', templateParam: '{}' })).toMatchObject({ code: 'isv.SMS_TEMPLATE_ILLEGAL' });
  });

  it('when the secret is wrong, then the SDK throws SignatureDoesNotMatch with status 400 and nothing is recorded', async () => {
    const before = stub.sent.length;

    await expect(send({ templateParam: JSON.stringify({ item: 'a', example: 'b' }) }, 'wrong')).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    expect(stub.sent.length).toBe(before);
  });

  it('when PhoneNumbers is missing, then it answers 400 MissingPhoneNumbers', async () => {
    await expect(client().sendSms(new Dysmsapi.SendSmsRequest({ signName: SIGN, templateCode: TEMPLATE }))).rejects.toMatchObject({ code: 'MissingPhoneNumbers', statusCode: 400 });
  });

  it('when a signed request is replayed, then the nonce is refused; when its nonce is altered, then the signature fails', async () => {
    // Capture one request the SDK signs (aimed at a spy; the host header is signed), then send it to the stub three times.
    let captured: { path: string; headers: Record<string, string> } | undefined;
    const spy = createServer((req, res) => {
      captured = { path: req.url ?? '/', headers: Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string')) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"Code":"OK","BizId":"1^0"}');
    });
    await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', () => resolve()));
    const spyAddress = spy.address();
    const spyEndpoint = `127.0.0.1:${typeof spyAddress === 'object' && spyAddress ? spyAddress.port : 0}`;
    await new Dysmsapi.default(new $OpenApiUtil.Config({ accessKeyId: AK, accessKeySecret: SECRET, endpoint: spyEndpoint, protocol: 'http' })).sendSms(
      new Dysmsapi.SendSmsRequest({ phoneNumbers: '13912345678', signName: SIGN, templateCode: TEMPLATE, templateParam: JSON.stringify({ item: 'a', example: 'b' }) }),
    );
    await new Promise<void>((resolve) => spy.close(() => resolve()));
    const stubPort = Number(stub.endpoint.split(':')[1]);
    const replay = (headers: Record<string, string>) => new Promise<{ status: number; code: unknown }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: stubPort, method: 'POST', path: captured?.path ?? '/', headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { Code?: unknown }).Code }));
      });
      req.on('error', reject);
      req.end();
    });
    const headers = { ...captured?.headers };

    const first = await replay(headers);
    const second = await replay(headers);
    const altered = await replay({ ...headers, 'x-acs-signature-nonce': 'f'.repeat(64) });

    expect(first).toEqual({ status: 200, code: 'OK' });
    expect(second).toEqual({ status: 400, code: 'SignatureNonceUsed' });
    expect(altered).toEqual({ status: 400, code: 'SignatureDoesNotMatch' });
  });
});
