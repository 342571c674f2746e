import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKeyError } from '../../src/security/errors.js';
import { deriveKeys, generateMasterKey, loadOrCreateMasterKeyFile, userKey } from '../../src/security/keys.js';

describe('deriveKeys', () => {
  it('when one master key is derived twice, then the sub-keys are equal, 32 bytes each and all different', () => {
    const master = generateMasterKey();
    const a = deriveKeys(master);
    const b = deriveKeys(master);
    expect(a).toEqual(b);
    const subKeys = [a.encryption, a.blindIndex, a.session, a.apiKeyPepper];
    for (const k of subKeys) expect(k.length).toBe(32);
    expect(new Set(subKeys.map((k) => k.toString('hex'))).size).toBe(4);
    expect(subKeys.some((k) => k.equals(Buffer.from(master, 'base64')))).toBe(false);
    expect(a.keyId).toMatch(/^[0-9a-f]{12}$/);
  });

  it('when master keys differ, then key ids and sub-keys differ', () => {
    const a = deriveKeys(generateMasterKey());
    const b = deriveKeys(generateMasterKey());
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.encryption.equals(b.encryption)).toBe(false);
  });

  it('when the master key is not base64 of 32 bytes, then deriveKeys throws MasterKeyError', () => {
    expect(() => deriveKeys(Buffer.alloc(16).toString('base64'))).toThrow(MasterKeyError);
    expect(() => deriveKeys('not base64 at all!')).toThrow(/not base64/);
    expect(() => deriveKeys('')).toThrow(MasterKeyError);
  });
});

describe('userKey', () => {
  it('when the same user writes again, then the key is the same; another channel gives another key', () => {
    const keys = deriveKeys(generateMasterKey());
    const k = userKey(keys, 'wechat', 'oAbc123');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(k).not.toContain('oAbc123');
    expect(userKey(keys, 'wechat', 'oAbc123')).toBe(k);
    expect(userKey(keys, 'sms', 'oAbc123')).not.toBe(k);
    expect(userKey(keys, 'wechat', 'oAbc124')).not.toBe(k);
  });
});

describe('loadOrCreateMasterKeyFile', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'boardroll-key-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('when several starts race on an empty DATA_DIR, then they all get one key, stored owner-only', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateMasterKeyFile(join(dir, 'data'))));
    expect(new Set(keys).size).toBe(1);
    expect(Buffer.from(keys[0] ?? '', 'base64')).toHaveLength(32);
    const file = join(dir, 'data', 'master.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(keys[0]);
    expect(await loadOrCreateMasterKeyFile(join(dir, 'data'))).toBe(keys[0]);
  });
});
