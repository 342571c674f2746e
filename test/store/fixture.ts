import { randomInt } from 'node:crypto';
import { deriveKeys, generateMasterKey, type DerivedKeys } from '../../src/security/keys.js';
import { createTripRepository, type NewTrip } from '../../src/store/trips.js';
import { createVault, type Vault } from '../../src/store/vault.js';
import type { Db } from '../../src/store/db.js';

export const RETENTION_DAYS = 28;

export function testKeys(): DerivedKeys {
  return deriveKeys(generateMasterKey());
}

/** A valid-looking, random 18-character resident ID number (checksum not computed: the store does not validate it). */
export function randomIdNumber(): string {
  const body = `2101${String(randomInt(0, 10 ** 10)).padStart(10, '0')}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return `${body}${randomInt(0, 11) === 10 ? 'X' : String(randomInt(0, 10))}`;
}

export function randomPhone(): string {
  return `13${randomInt(0, 10)}${String(randomInt(0, 10 ** 8)).padStart(8, '0')}`;
}

export function randomPlate(): string {
  return `辽A${String(randomInt(0, 100_000)).padStart(5, '0')}`;
}

export function newTrip(overrides: Partial<NewTrip> = {}): NewTrip {
  return {
    plate: randomPlate(),
    plateCity: '210100',
    declaredCount: 30,
    driver: { name: '张三丰', phone: randomPhone() },
    registrant: null,
    crew: null,
    tripNumber: 'K1234',
    departureAt: new Date('2030-05-01T08:30:00+08:00'),
    originText: '沈阳北站',
    originCity: '210100',
    destinationText: '北京六里桥',
    destinationCity: '110100',
    beijingBound: true,
    reportingCity: '210100',
    createdBy: 'creator-user-key',
    ...overrides,
  };
}

/** Keys, vault and trip repository over one database; each call makes new keys (so tests do not share them). */
export function storeParts(db: Db, keys: DerivedKeys = testKeys()): { keys: DerivedKeys; vault: Vault; trips: ReturnType<typeof createTripRepository> } {
  const vault = createVault(db, keys);
  return { keys, vault, trips: createTripRepository({ db, vault, retentionDays: RETENTION_DAYS }) };
}
