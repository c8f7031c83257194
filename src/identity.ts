/**
 * Who a call is: the identity types every layer shares. A leaf module (it imports nothing), so the
 * carrier and provider adapters, the call session, the store and the flags can all use these without
 * importing one another.
 *
 * Carrier and provider names are plain strings on purpose: the registries (`src/carriers/index.ts`,
 * `src/providers/index.ts`) are the list of what exists, so a new carrier or provider is one adapter
 * folder and one registry line, with no union type to extend elsewhere. Values from outside (a
 * webhook query, an API body) are checked against the registry at run time.
 */

/** The name of a carrier in the carrier registry, e.g. `twilio`, `exotel`; also the `carrier` metric label and column. */
export type CarrierName = string;

/** The name of a provider in the provider registry, e.g. `elevenlabs`, `openai`; also the `provider` metric label and column. */
export type ProviderName = string;

/** Whether the caller called us (`inbound`) or we placed the call (`outbound`). */
export type CallDirection = 'inbound' | 'outbound';

/** The fields that identify one call wherever it is handled (admission, routing, flags, providers, records). */
export interface CallIdentity {
  /** The carrier's id of the call (Twilio `CallSid`, Exotel `CallSid`). */
  callSid: string;
  carrier: CarrierName;
  direction: CallDirection;
  /** Caller number (E.164 where the carrier gives it), e.g. +14155550123. */
  from?: string;
  /** Called number (E.164 where the carrier gives it). */
  to?: string;
}
