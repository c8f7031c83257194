/**
 * Errors with a stable code and a category; failover and retries read `category`, never text.
 */
export type ErrorCategory = 'auth' | 'bad_request' | 'rate_limit' | 'connectivity' | 'server' | 'application';

export class CallbridgeError extends Error {
  constructor(
    readonly code: `CB_${string}`,
    message: string,
    readonly category: ErrorCategory,
    opts?: ErrorOptions,
  ) {
    super(message, opts);
    this.name = new.target.name;
  }

  /** True for transient failures worth retrying or failing over. */
  get retryable(): boolean {
    return this.category === 'rate_limit' || this.category === 'connectivity' || this.category === 'server';
  }
}

/** The categories an HTTP API answer can have; 'connectivity' is for requests that got no answer at all. */
export type HttpErrorCategory = Exclude<ErrorCategory, 'application'>;

/**
 * Category of a non-2xx HTTP status (https://www.rfc-editor.org/rfc/rfc9110#section-15):
 * 401/403 → 'auth', 429 → 'rate_limit', 5xx → 'server', any other status (400, 404, 409, 422 …) → 'bad_request'.
 * An API that reports quota exhaustion under another status (Google's 403 rateLimitExceeded) refines this itself.
 */
export function httpStatusCategory(status: number): HttpErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** The code suffix of each HTTP error category, so every API's codes read alike (`CB_EL_AUTH`, `CB_OPENAI_RATE_LIMIT` …). */
const HTTP_CODE_SUFFIX: Record<HttpErrorCategory, string> = {
  auth: 'AUTH',
  rate_limit: 'RATE_LIMIT',
  server: 'SERVER',
  bad_request: 'BAD_REQUEST',
  connectivity: 'UNREACHABLE',
};

/** The code of an HTTP API failure of `category`: `<prefix>_<AUTH|RATE_LIMIT|SERVER|BAD_REQUEST|UNREACHABLE>`. */
export function httpErrorCode<P extends `CB_${string}`>(prefix: P, category: HttpErrorCategory): `${P}_${string}` {
  return `${prefix}_${HTTP_CODE_SUFFIX[category]}`;
}

/** A CallbridgeError for a non-2xx HTTP `status`: category by httpStatusCategory, code by httpErrorCode. */
export function httpStatusError(prefix: `CB_${string}`, status: number, message: string, opts?: ErrorOptions): CallbridgeError {
  const category = httpStatusCategory(status);
  return new CallbridgeError(httpErrorCode(prefix, category), message, category, opts);
}
