/**
 * Carrier registry: one line per carrier folder. A carrier module owns its whole wire (media codec,
 * upgrade and token rules, webhooks and their answers, status callbacks, REST call control); the
 * server only loops over this list.
 */
import { exotelCarrier } from './exotel';
import { twilioCarrier } from './twilio';
import type { CarrierModule } from './types';

/** Every carrier callbridge speaks. */
export const CARRIERS: readonly CarrierModule[] = [twilioCarrier, exotelCarrier];

/** The carrier of a media socket without `?carrier=` and of `POST /api/calls` without `carrier` (the first entry). */
export const DEFAULT_CARRIER = CARRIERS[0]!.name;
