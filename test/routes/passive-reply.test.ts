import { describe, expect, it } from 'vitest';
import { PASSIVE_REPLY_MAX_BYTES, splitForPassiveReply } from '../../src/routes/webhooks/wechat.js';

describe('passive reply length', () => {
  it('when a reply fits, then it is one part', () => {
    expect(splitForPassiveReply('登记完成')).toEqual(['登记完成']);
  });

  it('when a roster is longer than WeChat shows, then it is split on line breaks into parts that each fit and keep every line', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `${i + 1} 王*明 2101**********1233 ✓`);
    const parts = splitForPassiveReply(lines.join('\n'));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(PASSIVE_REPLY_MAX_BYTES);
    expect(parts.join('\n')).toBe(lines.join('\n'));
  });
});
