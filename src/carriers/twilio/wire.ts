/**
 * Twilio Media Streams wire messages, spelled as on the wire.
 * Source: https://www.twilio.com/docs/voice/media-streams/websocket-messages (see docs/protocols/twilio.md#stream-messages).
 * Numeric-looking values are strings, except mediaFormat.sampleRate / channels (numbers).
 */
import { z } from 'zod';

/** Twilio → callbridge `media` (hot path: narrowed by hand, not by zod). */
export interface TwilioMediaIn {
  event: 'media';
  sequenceNumber: string;
  streamSid: string;
  media: { track: string; chunk: string; timestamp: string; payload: string };
}

/** Control messages (rare): validated with zod. */
export const TwilioConnected = z.object({ event: z.literal('connected'), protocol: z.string(), version: z.string() });

export const TwilioStart = z.object({
  event: z.literal('start'),
  sequenceNumber: z.string().optional(),
  streamSid: z.string().optional(),
  start: z.object({
    streamSid: z.string().min(1),
    callSid: z.string().min(1),
    accountSid: z.string().optional(),
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }),
  }),
});

export const TwilioMark = z.object({
  event: z.literal('mark'),
  streamSid: z.string(),
  sequenceNumber: z.string().optional(),
  mark: z.object({ name: z.string() }),
});

export const TwilioDtmf = z.object({
  event: z.literal('dtmf'),
  streamSid: z.string(),
  sequenceNumber: z.string().optional(),
  dtmf: z.object({ track: z.string().optional(), digit: z.string().min(1) }),
});

export const TwilioStop = z.object({
  event: z.literal('stop'),
  streamSid: z.string().optional(),
  sequenceNumber: z.string().optional(),
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).optional(),
});

/** callbridge → Twilio: exactly three message types, each with exactly these fields (https://www.twilio.com/docs/api/errors/31951). */
export type TwilioOutbound =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };
