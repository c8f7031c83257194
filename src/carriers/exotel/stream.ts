/**
 * The Exotel stream rules for `WS /media-stream?carrier=exotel&token=…&sample-rate=…`:
 * - upgrade: a `token` in the query is required (else 401), plus Basic credentials when
 *   EXOTEL_STREAM_USER/EXOTEL_STREAM_PASSWORD are set (else 401) (docs/protocols/exotel.md#authentication);
 * - `start`: the token must be the one the dynamic-URL answer issued for the call whose `call_sid` starts
 *   (or for the id callbridge minted when that request had no CallSid), or equal EXOTEL_STREAM_TOKEN
 *   (static applet URL: the call is admitted now);
 * - codec at the URL's `sample-rate` (hyphen documented, `sample_rate` also read; docs/protocols/exotel.md#stream-url);
 * - outbound audio: Exotel's chunk rules travel as data on `start` (`EXOTEL_CHUNKING`, ./codec.ts); the session applies them.
 */
import type { Config } from '../../config';
import type { CarrierDeps, CarrierStartEvent, CarrierStream } from '../types';
import { basicAuthOk, secretEquals } from './auth';
import { createExotelCodec } from './codec';
import type { ExotelLiveCalls } from './live-calls';
import { parseRate, type ExotelRate } from './wire';

export interface ExotelStreamDeps<Call> {
  cfg: Config;
  /** Admit the stream of `callSid` by its token. */
  claim: CarrierDeps<Call>['claim'];
  live: ExotelLiveCalls;
  /** Admit a call that arrived on the static applet URL (no dynamic-URL request came first). */
  admitStatic(start: CarrierStartEvent): Promise<Call | undefined>;
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
    async claim(start, url) {
      const token = url.searchParams.get('token') ?? undefined;
      if (cfg.EXOTEL_STREAM_TOKEN && secretEquals(token, cfg.EXOTEL_STREAM_TOKEN)) return deps.admitStatic(start);
      return deps.claim(start.callSid, token, start.format);
    },
    attached: (callSid, close) => live.attach(callSid, close),
  };
}
