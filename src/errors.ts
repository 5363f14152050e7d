/**
 * Every failure we raise carries a stable `code`: callers match on it, never on
 * `instanceof` (a bundle can hold two copies of a class). Messages say what
 * went wrong and what to do about it.
 */
export type ErrorCode =
  | 'K6_NOT_FOUND'
  | 'K6_VERSION_UNREADABLE'
  | 'K6_VERSION_UNSUPPORTED'
  | 'K6_DOWNLOAD_FAILED'
  | 'K6_CHECKSUM_MISMATCH'
  | 'K6_BUILD_FAILED'
  | 'K6_API_UNREACHABLE'
  | 'K6_API_ERROR'
  | 'K6_API_TIMEOUT'
  | 'K6_PROCESS_EXITED'
  | 'K6_TEST_INVALID'
  | 'INVALID_WEIGHT'
  | 'INVALID_OPTION'
  | 'PROTOCOL_MISMATCH'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'RUN_STARTED'
  | 'COORDINATOR_UNREACHABLE'
  | 'COORDINATOR_ERROR'
  | 'COORDINATOR_FAILED'
  | 'ARCHIVE_CHECKSUM_MISMATCH'
  | 'AGENT_FAILED'
  | 'K6_INIT_FAILED'
  | 'RENDEZVOUS_FAILED'
  | 'RENDEZVOUS_UNREADABLE'
  | 'TUNNEL_FAILED'
  | 'RATE_LIMITED'
  | 'EVENT_REFUSED'
  | 'SEQUENCE_OUT_OF_RANGE'
  | 'SETUP_DATA_REFUSED';

export class K6DistributedError extends Error {
  readonly code: ErrorCode;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; data?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'K6DistributedError';
    this.code = code;
    this.data = options.data ?? {};
  }
}

export function hasErrorCode(error: unknown, code: ErrorCode): error is K6DistributedError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
