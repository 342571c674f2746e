import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndex, normalizeIndexValue, open, openJson, seal, sealJson } from '../../src/security/cipher.js';
import { DecryptionError } from '../../src/security/errors.js';

const key = randomBytes(32);

describe('seal / open', () => {
  it('when a text is sealed, then it opens to the same text and the bytes are iv ‖ tag ‖ ciphertext', () => {
    const sealed = seal(key, '张三 210102199001011234');
    expect(sealed.length).toBe(12 + 16 + Buffer.byteLength('张三 210102199001011234'));
    expect(sealed.includes(Buffer.from('210102199001011234'))).toBe(false);
    expect(open(key, sealed)).toBe('张三 210102199001011234');
  });

  it('when the same text is sealed twice, then the IVs (and ciphertexts) differ', () => {
    const a = seal(key, 'same');
    const b = seal(key, 'same');
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
  });

  it('when the key, the aad or any byte is wrong, then open throws DecryptionError', () => {
    const sealed = seal(key, 'secret', 'row-1:phone');
    expect(() => open(randomBytes(32), sealed, 'row-1:phone')).toThrow(DecryptionError);
    expect(() => open(key, sealed, 'row-2:phone')).toThrow(DecryptionError);
    expect(() => open(key, sealed)).toThrow(DecryptionError);
    for (const index of [0, 12, 28]) {
      const tampered = Buffer.from(sealed);
      tampered[index] = (tampered[index] ?? 0) ^ 1;
      expect(() => open(key, tampered, 'row-1:phone')).toThrow(DecryptionError);
    }
    expect(() => open(key, sealed.subarray(0, 20))).toThrow(DecryptionError);
  });

  it('when the key is not 32 bytes, then seal refuses', () => {
    expect(() => seal(randomBytes(16), 'x')).toThrow(/32 bytes/);
  });
});

describe('sealJson / openJson', () => {
  it('when a session blob is sealed, then it is base64 and opens to an equal value', () => {
    const value = { step: 'ask_phone', slots: { name: '李四', idType: 1 }, n: [1, 2] };
    const text = sealJson(key, value, 'session:wechat:abc');
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(text).not.toContain('李四');
    expect(openJson(key, text, 'session:wechat:abc')).toEqual(value);
    expect(() => openJson(key, text, 'session:wechat:other')).toThrow(DecryptionError);
  });
});

describe('blindIndex', () => {
  it('when the same value is indexed, then the hex HMAC is stable; other kinds and keys give other indexes', () => {
    const a = blindIndex(key, 'phone', '13812345678');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(blindIndex(key, 'phone', '13812345678')).toBe(a);
    expect(blindIndex(key, 'id_number', '13812345678')).not.toBe(a);
    expect(blindIndex(randomBytes(32), 'phone', '13812345678')).not.toBe(a);
  });

  it('when values are normalized, then spacing, case, full-width digits and +86 do not matter', () => {
    expect(normalizeIndexValue('id_number', ' 21010219900101123x ')).toBe('21010219900101123X');
    expect(normalizeIndexValue('id_number', '２１０１０２１９９００１０１１２３Ｘ')).toBe('21010219900101123X');
    expect(normalizeIndexValue('phone', '+86 138-1234-5678')).toBe('13812345678');
    expect(normalizeIndexValue('phone', '008613812345678')).toBe('13812345678');
    expect(normalizeIndexValue('phone', '13812345678')).toBe('13812345678');
  });
});
