/**
 * The stream URL callbridge gives Exotel's Voicebot applet (docs/protocols/exotel.md#call-set-up, #stream-url):
 * `wss://[user:password@]{PUBLIC_URL host}{prefix}/media-stream?carrier=exotel&token={token}&sample-rate={rate}`.
 * Exotel keeps the query string; three parameters stay within its limit of 3 custom parameters and
 * 256 characters; credentials written into the URL are sent as `Authorization: Basic`
 * (https://developer.exotel.com/docs/agentstream/stream-voicebot-applet).
 */
import type { Config } from '../../config';
import type { ExotelRate } from './wire';

/** @param token the per-call token (or EXOTEL_STREAM_TOKEN for a static applet URL); @param rate Hz. */
export function exotelStreamUrl(cfg: Pick<Config, 'PUBLIC_URL' | 'EXOTEL_STREAM_USER' | 'EXOTEL_STREAM_PASSWORD'>, token: string, rate: ExotelRate): string {
  const u = new URL(cfg.PUBLIC_URL);
  const prefix = u.pathname.replace(/\/+$/, '');
  const creds = cfg.EXOTEL_STREAM_USER ? `${encodeURIComponent(cfg.EXOTEL_STREAM_USER)}:${encodeURIComponent(cfg.EXOTEL_STREAM_PASSWORD ?? '')}@` : '';
  const q = new URLSearchParams({ carrier: 'exotel', token, 'sample-rate': String(rate) });
  return `wss://${creds}${u.host}${prefix}/media-stream?${q.toString()}`;
}
