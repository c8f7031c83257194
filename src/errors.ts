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
