/**
 * What callbridge itself says to a caller when no agent can (a leaf module: carriers speak these
 * lines through their own answers, the session through call control).
 */

/** Spoken when the provider fails for good, or the daily budget is spent. */
export const APOLOGY = 'Sorry, our assistant is not available right now. Please call again later. Goodbye.';

/** Spoken when every line is taken (MAX_CONCURRENT_CALLS) or the instance is draining. */
export const BUSY = 'Sorry, all our lines are busy right now. Please call again in a few minutes. Goodbye.';
