import type { ChannelName } from '../contracts/conversation.js';

/** Global commands that work at every step (contract: Conversation contract). */
export type GlobalCommand = 'back' | 'cancel' | 'restart' | 'help' | 'lang_en' | 'lang_zh';

const WORDS: Record<string, GlobalCommand> = {
  '0': 'back', '返回': 'back', 'back': 'back',
  '取消': 'cancel', 'cancel': 'cancel',
  '重填': 'restart', 'restart': 'restart',
  '帮助': 'help', 'help': 'help', '?': 'help', '？': 'help',
  'english': 'lang_en', '中文': 'lang_zh', 'chinese': 'lang_zh',
};
/** Feature phones: one key restarts, one asks the crew for help (SMS conventions). */
const SMS_WORDS: Record<string, GlobalCommand> = { '9': 'restart', '8': 'help' };

export function globalCommandOf(text: string, channel: ChannelName): GlobalCommand | null {
  const word = text.toLowerCase();
  return WORDS[word] ?? (channel === 'sms' ? SMS_WORDS[word] ?? null : null);
}
