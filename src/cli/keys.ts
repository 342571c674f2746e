import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ensureDevSecrets } from '../bootstrap.js';
import { loadConfig, type Config } from '../config.js';
import { createApiKeyRepository } from '../store/api-keys.js';
import { createAuditRepository } from '../store/audit.js';
import type { Database } from '../store/db.js';
import { API_KEY_ROLES, STAFF_ROLES, type ApiKeyRole, type StaffRole } from '../store/schema.js';
import { createStaffRepository } from '../store/staff.js';
import { addDays } from '../store/time.js';
import { openKeyRing } from '../store/key-ring.js';
import { asRelayCommand, cliLogger, openStoreForCli, runWhenEntry, UsageError } from './cli-runtime.js';
import { checkNewKey, parseBatch, rotateMasterCommand } from './rotate-master.js';

/**
 * `npm run keys -- create --role ROLE [--city CODE] [--station NAME] [--label L] [--expires-days N]`  → the key, alone on the last line
 * `npm run keys -- enroll --role ROLE [--city CODE] [--station NAME] [--expires-days N]`               → a one-time code, alone on the last line
 * `npm run keys -- list` · `npm run keys -- revoke <id>`
 * Opens only the database (as `npm start` would: DATABASE_URL, or the embedded store in DATA_DIR); Redis is not needed.
 */
const USAGE = `usage:
  npm run keys -- create --role ${API_KEY_ROLES.join('|')} [--city CODE] [--station NAME] [--label TEXT] [--expires-days N]
  npm run keys -- enroll --role ${STAFF_ROLES.join('|')} [--city CODE] [--station NAME] [--expires-days N]
  npm run keys -- list
  npm run keys -- revoke <key id>
  npm run keys -- rotate-master [--new-key BASE64] [--batch N]`;

const DEFAULT_ENROLL_DAYS = 7;


function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function cityOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!/^\d{6}$/.test(value)) throw new UsageError(`--city: expected a 6-digit city code such as 210100, got "${value.slice(0, 20)}"`);
  return value;
}

function daysOf(value: string | undefined): number | null {
  if (value === undefined) return null;
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0 || days > 3650) throw new UsageError(`--expires-days: expected a number of days between 1 and 3650, got "${value.slice(0, 20)}"`);
  return days;
}

function roleOf<R extends string>(value: string | undefined, roles: readonly R[]): R {
  if (value === undefined) throw new UsageError(`--role is required (${roles.join(', ')})`);
  if (!(roles as readonly string[]).includes(value)) throw new UsageError(`--role: expected one of ${roles.join(', ')}, got "${value.slice(0, 20)}"`);
  return value as R;
}

function textOf(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '' || text.length > 100) throw new UsageError(`--${name}: expected 1-100 characters`);
  return text;
}

/** The service's own open store, when the command runs inside `npm start` through the relay (src/cli/relay.ts). */
interface InService { database: Database; config: Config; out(line: string): void }

async function run(argv: string[], inService?: InService): Promise<void> {
  const write = inService?.out ?? out;
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { role: { type: 'string' }, city: { type: 'string' }, station: { type: 'string' }, label: { type: 'string' }, 'expires-days': { type: 'string' }, help: { type: 'boolean' }, 'new-key': { type: 'string' }, batch: { type: 'string' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) throw new UsageError('a command is required');
  // Bad arguments are refused before the database is opened.
  if (command === 'create' || command === 'enroll') {
    roleOf(values.role, command === 'create' ? API_KEY_ROLES : STAFF_ROLES);
    cityOf(values.city);
    daysOf(values['expires-days']);
    textOf(values.station, 'station');
    textOf(values.label, 'label');
  } else if (command === 'revoke') {
    if (rest[0] === undefined || !z.uuid().safeParse(rest[0]).success) throw new UsageError('revoke: expected the key id (a uuid, as `list` shows it)');
  } else if (command === 'rotate-master') {
    checkNewKey(values['new-key']);
    parseBatch(values.batch);
  } else if (command !== 'list') {
    throw new UsageError(`unknown command "${command.slice(0, 20)}"`);
  }

  if (inService && command === 'rotate-master') throw new UsageError('rotate-master: stop the service first (the embedded store is open in it), then run this again');
  const log = cliLogger();
  const config = inService?.config ?? loadConfig(await ensureDevSecrets(process.env, log));
  if (!config.masterKey) throw new Error('BOARDROLL_MASTER_KEY is required');
  let database: Database | null = inService?.database ?? null;
  try {
    database ??= await openStoreForCli(config, log, { command: 'keys', argv });
    if (!database) throw new Error('no database');
    // The same key ring the service opens (a wrong master key is refused here, as at the service's start).
    const ring = await openKeyRing(database.db, { masterKey: config.masterKey, previousMasterKey: config.previousMasterKey });
    const { keys } = ring;
    const apiKeys = createApiKeyRepository({ db: database.db, keys });
    const staff = createStaffRepository({ db: database.db, keys });
    const audit = createAuditRepository({ db: database.db });

    switch (command) {
      case 'create': {
        const role = roleOf<ApiKeyRole>(values.role, API_KEY_ROLES);
        const city = cityOf(values.city);
        const days = daysOf(values['expires-days']);
        const created = await apiKeys.create({
          role, city, station: textOf(values.station, 'station'), label: textOf(values.label, 'label'), expiresAt: days === null ? null : addDays(new Date(), days),
        });
        await audit.append({ actor: 'cli', action: 'apikey.create', subject: created.id, details: { role, city, expiresDays: days } });
        write(`API key ${created.id}: role ${role}${city ? `, city ${city}` : ''}${days ? `, expires in ${days} days` : ''}. It is shown once; keep it safe.`);
        write(created.key);
        return;
      }
      case 'enroll': {
        const role = roleOf<StaffRole>(values.role, STAFF_ROLES);
        const city = cityOf(values.city);
        const station = textOf(values.station, 'station');
        const days = daysOf(values['expires-days']) ?? DEFAULT_ENROLL_DAYS;
        const code = await staff.createEnrollmentCode({ role, city, station, ttlHours: days * 24 });
        await audit.append({ actor: 'cli', action: 'staff.enrollment_code', details: { role, city, station, expiresDays: days } });
        write(`One-time enrollment code: role ${role}${city ? `, city ${city}` : ''}${station ? `, station ${station}` : ''}, valid ${days} days.`);
        write('The staff member sends "绑定 <code>" (or "enroll <code>") to the official account.');
        write(code);
        return;
      }
      case 'list': {
        const list = await apiKeys.list();
        if (list.length === 0) { write('no API keys'); return; }
        for (const k of list) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : k.expiresAt && k.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
          write([k.id, `${k.prefix}…`, k.role, k.city ?? '-', k.station ?? '-', k.label ?? '-', k.createdAt.toISOString(), k.expiresAt?.toISOString() ?? 'no expiry', state].join('\t'));
        }
        return;
      }
      case 'revoke': {
        const id = rest[0];
        if (id === undefined || !z.uuid().safeParse(id).success) throw new UsageError('revoke: expected the key id (a uuid, as `list` shows it)');
        if (!(await apiKeys.revoke(id))) throw new UsageError(`revoke: no active API key with id ${id}`);
        await audit.append({ actor: 'cli', action: 'apikey.revoke', subject: id });
        write(`revoked ${id}`);
        return;
      }
      case 'rotate-master': {
        await rotateMasterCommand({ db: database.db, ring, config, newKey: values['new-key'], batch: values.batch, out: write });
        return;
      }
      default:
        throw new UsageError('unknown command');
    }
  } finally {
    if (!inService) await database?.close();
  }
}

/** `npm run keys -- …` run inside the service (the relay's handler): usage errors exit 2 with the usage text. */
export async function runKeysInService(argv: string[], store: InService): Promise<void> {
  await asRelayCommand(USAGE, () => run(argv, store));
}

runWhenEntry(import.meta.url, 'keys', USAGE, (argv) => run(argv));
