/**
 * The Unleash context of a call. `sessionId` is the callSid, so the `default` stickiness is per call
 * too; `properties` carry callSid, carrier, callerNumber, direction and calledNumber for
 * `flexibleRollout` stickiness ("callSid") and constraints (e.g. carrier IN [exotel]).
 * The SDK looks a stickiness field up at the top level, then in `properties`
 * (unleash-client 6.12.1 `lib/strategy/flexible-rollout-strategy.js`;
 * https://docs.getunleash.io/reference/unleash-context).
 */
import type { Context } from 'unleash-client';
import type { FlagContext } from './types';

/** The Unleash context of one call (see the file header for the fields). */
export function unleashContext(ctx: FlagContext): Context {
  const properties: Record<string, string> = { callSid: ctx.callSid, carrier: ctx.carrier, direction: ctx.direction };
  if (ctx.from) properties.callerNumber = ctx.from;
  if (ctx.to) properties.calledNumber = ctx.to;
  return { sessionId: ctx.callSid, properties };
}
