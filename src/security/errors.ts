import { AppError } from '../errors.js';

/** Sealed data could not be opened: wrong key, wrong associated data, or tampered bytes. The message names no data. */
export class DecryptionError extends AppError {
  constructor(message = 'sealed value could not be opened (wrong key or tampered data)', options?: { cause?: unknown }) {
    super('CRYPTO_OPEN_FAILED', message, 500, options);
  }
}

/** The master key in the environment is not the one the store was written with. Raised at start-up by `vault.checkKey()`. */
export class KeyMismatchError extends AppError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('STORE_KEY_MISMATCH', message, 500, options);
  }
}

/** A master key that is not base64 of exactly 32 bytes. */
export class MasterKeyError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_MASTER_KEY_INVALID', message, 500, options);
  }
}
