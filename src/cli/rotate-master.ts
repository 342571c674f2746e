import { UsageError } from './cli-runtime.js';
import type { Config } from '../config.js';
import { MasterKeyError } from '../security/errors.js';
import { generateMasterKey, masterKeyOf } from '../security/keys.js';
import { createAuditRepository } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { rotateMaster, type KeyRing } from '../store/key-ring.js';
import { createVault } from '../store/vault.js';

/**
 * `npm run keys -- rotate-master [--new-key <base64>] [--batch N]` (called from src/cli/keys.ts).
 *
 * Without downtime: restart the service with BOARDROLL_MASTER_KEY=<new> and BOARDROLL_PREVIOUS_MASTER_KEY=<old>
 * (before or after this runs; processes still on the old key keep working until the end), then run this with either
 * environment. The new key is `--new-key`, else BOARDROLL_MASTER_KEY when a previous key is set (the rotation the
 * environment describes), else a fresh one printed once before anything changes. Every vault value is re-encrypted
 * under a new vault key in batches (one transaction each; progress on stdout; run again to resume), then the old
 * vault key is destroyed and the old master key opens nothing any more. Blind indexes, sessions and API keys are
 * untouched (their keys are only re-wrapped). Afterwards drop BOARDROLL_PREVIOUS_MASTER_KEY.
 */
export class RotateUsageError extends UsageError {}

export function parseBatch(value: string | undefined): number {
  if (value === undefined) return 500;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new RotateUsageError(`--batch: expected a whole number between 1 and 10000, got "${value.slice(0, 20)}"`);
  return n;
}

export function checkNewKey(value: string | undefined): void {
  if (value === undefined) return;
  try {
    masterKeyOf(value);
  } catch (err) {
    if (err instanceof MasterKeyError) throw new RotateUsageError(`--new-key: ${err.message.replace('BOARDROLL_MASTER_KEY', 'the new key')}`);
    throw err;
  }
}

export async function rotateMasterCommand(input: {
  db: Db;
  ring: KeyRing;
  config: Pick<Config, 'masterKey' | 'previousMasterKey'>;
  newKey: string | undefined;
  batch: string | undefined;
  out: (line: string) => void;
}): Promise<void> {
  const { db, ring, config, out } = input;
  if (!config.masterKey) throw new RotateUsageError('BOARDROLL_MASTER_KEY is required');
  checkNewKey(input.newKey);
  const batchSize = parseBatch(input.batch);
  const holders = [config.masterKey, ...(config.previousMasterKey ? [config.previousMasterKey] : [])];
  let target = input.newKey ?? (config.previousMasterKey ? config.masterKey : undefined);
  if (target === undefined) {
    target = generateMasterKey();
    out('New master key (shown once; keep it safe). Restart every process with BOARDROLL_MASTER_KEY=<this key> and BOARDROLL_PREVIOUS_MASTER_KEY=<the current key>:');
    out(target);
  }
  const targetId = masterKeyOf(target).id;
  if (!config.previousMasterKey && targetId === masterKeyOf(config.masterKey).id) {
    throw new RotateUsageError('--new-key is the master key already in use: give a different key (or none to generate one)');
  }
  const vault = createVault(db, ring.keys, { ring });
  let last = -1;
  const result = await rotateMaster({
    db, ring, vault, holders, targetMasterKey: target, batchSize,
    onProgress: ({ done, total }) => {
      if (done === last) return;
      last = done;
      out(`re-encrypted ${done}/${total}`);
    },
  });
  await createAuditRepository({ db }).append({
    actor: 'cli', action: 'keys.rotate_master', subject: result.masterId,
    details: { vaultKeyId: result.vaultKeyId, reencrypted: result.reencrypted, retiredVaultKeys: result.retired.length, resumed: !result.started },
  });
  out(`rotation done: master key id ${result.masterId}, vault key ${result.vaultKeyId}, ${result.reencrypted} values re-encrypted, ${result.retired.length} old vault key(s) destroyed.`);
  out('Remove BOARDROLL_PREVIOUS_MASTER_KEY from the environment at the next restart.');
}
