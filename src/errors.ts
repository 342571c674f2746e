/** One error base with a stable code and an HTTP status; subclasses by category (STYLE §4). */
export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, statusCode = 500, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    if (options?.details) this.details = options.details;
  }
}

type ErrorOptions = { cause?: unknown; details?: Record<string, unknown> };

export class InputError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 400, options); }
}
export class AuthError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 401, options); }
}
export class ForbiddenError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 403, options); }
}
export class NotFoundError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 404, options); }
}
export class ConflictError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 409, options); }
}
export class PayloadTooLargeError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 413, options); }
}
export class UpstreamError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 502, options); }
}
export class UnavailableError extends AppError {
  constructor(code: string, message: string, options?: ErrorOptions) { super(code, message, 503, options); }
}
/** A flow or locale definition problem found at boot. */
export class FlowDefinitionError extends AppError {
  constructor(message: string, options?: ErrorOptions) { super('FLOW_DEFINITION_INVALID', message, 500, options); }
}
