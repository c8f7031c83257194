/**
 * ElevenLabs hosts per data-residency region (docs/protocols/elevenlabs.md#hosts-and-regions; sources: AsyncAPI
 * `servers` in https://github.com/elevenlabs/packages/blob/main/packages/types/schemas/agent.asyncapi.yaml, and
 * https://github.com/elevenlabs/packages/blob/main/packages/client/src/utils/location.ts).
 */
import type { Config } from '../../config';

export type ElevenLabsRegion = Config['ELEVENLABS_REGION'];

/** HTTPS REST base per region. `us` is the global host, never `api.us.elevenlabs.io` (docs/protocols/elevenlabs.md#hosts-and-regions). */
export const REGION_API_BASE: Readonly<Record<ElevenLabsRegion, string>> = Object.freeze({
  us: 'https://api.elevenlabs.io',
  eu: 'https://api.eu.residency.elevenlabs.io',
  india: 'https://api.in.residency.elevenlabs.io',
});

/**
 * The HTTPS base for REST calls (signed URL): `ELEVENLABS_API_BASE` when set (emulator, proxy),
 * else the region's host from `table` (REGION_API_BASE; tests substitute loopback hosts). Returned
 * without a trailing slash.
 */
export function elevenLabsApiBase(
  cfg: Pick<Config, 'ELEVENLABS_REGION' | 'ELEVENLABS_API_BASE'>,
  table: Readonly<Record<ElevenLabsRegion, string>> = REGION_API_BASE,
): string {
  const base = cfg.ELEVENLABS_API_BASE ?? table[cfg.ELEVENLABS_REGION];
  return base.replace(/\/+$/, '');
}

/**
 * The WebSocket base derived from an HTTPS base: same host, port and path prefix, scheme
 * `https:`→`wss:`, `http:`→`ws:` (callbridge's rule for ELEVENLABS_API_BASE; docs/protocols/elevenlabs.md#hosts-and-regions).
 * Only for public agents: a signed URL already names its host and is used verbatim.
 * @throws TypeError when `apiBase` is not an absolute URL.
 */
export function elevenLabsWsBase(apiBase: string): string {
  const u = new URL(apiBase);
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  return u.toString().replace(/\/+$/, '');
}
