/**
 * The Exotel stream rules for `WS /media-stream?carrier=exotel&token=…&sample-rate=…`:
 * - upgrade: a `token` in the query is required (else 401), plus Basic credentials when
 *   EXOTEL_STREAM_USER/EXOTEL_STREAM_PASSWORD are set (else 401) (docs/protocols/exotel.md#authentication);
 * - `start`: the token must belong to the call whose `call_sid` starts (issued by the dynamic-URL
 *   answer), or equal EXOTEL_STREAM_TOKEN (static applet URL: the call is admitted now);
 * - codec at the URL's `sample-rate` (hyphen documented, `sample_rate` also read; docs/protocols/exotel.md#stream-url);
 * - outbound audio framed in 320-byte multiples and paced (./outbound.ts).
 */
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { CarrierStartEvent, CarrierStream } from '../types';
import { basicAuthOk, secretEquals } from './auth';
import { createExotelCodec } from './codec';
import type { ExotelLiveCalls } from './live-calls';
import { ExotelOutbound } from './outbound';
import { parseRate, type ExotelRate } from './wire';

export interface ExotelStreamDeps<Call> {
  cfg: Config;
  /** Take the admitted call `callSid` whose token is `token`. */
  claim(callSid: string, token: string | undefined): Call | undefined;
  live: ExotelLiveCalls;
  /** Admit a call that arrived on the static applet URL (no dynamic-URL request came first). */
  admitStatic(start: CarrierStartEvent): Call | undefined;
  /** Time and timers of the outbound framer (default: the process clock). */
  clock?: Clock;
}

/** The `sample-rate` (or `sample_rate`) of a stream URL, else `fallback`. */
export function streamRate(url: URL, fallback: ExotelRate): ExotelRate {
  return parseRate(url.searchParams.get('sample-rate') ?? url.searchParams.get('sample_rate') ?? undefined) ?? fallback;
}

/** Build the Exotel `CarrierStream` for the media socket. */
export function exotelStream<Call>(deps: ExotelStreamDeps<Call>): CarrierStream<Call> {
  const { cfg, live } = deps;
  return {
    name: 'exotel',
    checkUpgrade(req, url) {
      if (!url.searchParams.get('token')) return { status: 401, text: 'Unauthorized', reason: 'token' };
      if (!basicAuthOk(req.headers.authorization, cfg.EXOTEL_STREAM_USER, cfg.EXOTEL_STREAM_PASSWORD))
        return { status: 401, text: 'Unauthorized', reason: 'basic_auth' };
      return undefined;
    },
    codec: (url) => createExotelCodec(streamRate(url, cfg.EXOTEL_SAMPLE_RATE)),
    claim(start, url) {
      const token = url.searchParams.get('token') ?? undefined;
      const claimed = deps.claim(start.callSid, token);
      if (claimed) return claimed;
      // A dynamic-URL request without CallSid: the token was bound to an id callbridge minted.
      const minted = token ? live.takeToken(token) : undefined;
      if (minted) return deps.claim(minted, token);
      if (cfg.EXOTEL_STREAM_TOKEN && secretEquals(token, cfg.EXOTEL_STREAM_TOKEN)) return deps.admitStatic(start);
      return undefined;
    },
    outbound: (start, write) => new ExotelOutbound({ format: start.format, write, clock: deps.clock }),
    attached: (callSid, close) => live.attach(callSid, close),
  };
}
