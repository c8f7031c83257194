/**
 * ELEVENLABS_REGION=india: the signed-URL request and the conversation socket both go to the India
 * residency host (docs/protocols/elevenlabs.md#hosts-and-regions). The region table is pointed at two loopback
 * emulators, one standing for the India host and one for the global host, and the test checks which
 * one the connector reaches.
 */
import { createElevenLabsConnector } from '../../src/providers/elevenlabs/connector';
import { REGION_API_BASE } from '../../src/providers/elevenlabs/regions';
import { silentLogger } from '../../src/observability/logger';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../emulators/elevenlabs';
import { testConfig } from '../helpers/config';

describe('ElevenLabs India residency for Exotel deployments', () => {
  let india: ElevenLabsEmulator;
  let global: ElevenLabsEmulator;
  beforeAll(async () => {
    india = await startElevenLabsEmulator({ speed: 8 });
    global = await startElevenLabsEmulator({ speed: 8 });
  });
  afterAll(async () => {
    await india.close();
    await global.close();
  });

  it('uses the official India host name', () => {
    expect(REGION_API_BASE.india).toBe('https://api.in.residency.elevenlabs.io');
    expect(REGION_API_BASE.us).toBe('https://api.elevenlabs.io');
  });

  it.each(['india', 'us'] as const)(
    'ELEVENLABS_REGION=%s: signed URL and socket hit that region host only',
    async (region) => {
      const cfg = testConfig({ ELEVENLABS_REGION: region, ELEVENLABS_API_BASE: undefined });
      const regionBases = { us: global.httpUrl, eu: 'http://127.0.0.1:9', india: india.httpUrl };
      const connector = createElevenLabsConnector(cfg, silentLogger, { regionBases });
      const ctx = {
        callSid: `exo-${region}`,
        carrier: 'exotel' as const,
        direction: 'inbound' as const,
        carrierFormat: { encoding: 'pcm16le' as const, sampleRate: 16000 as const },
        tools: [],
      };
      const hit = region === 'india' ? india : global;
      const other = region === 'india' ? global : india;
      const before = { hit: hit.seen.requests.length, other: other.seen.requests.length, otherConv: other.seen.conversations.length };
      const prepared = await connector.prepare(ctx);
      const leg = await prepared.connect(ctx, () => undefined);
      await leg.close('test done');
      expect(hit.seen.requests.length).toBe(before.hit + 1);
      expect(hit.seen.requests.at(-1)).toMatchObject({ path: '/v1/convai/conversation/get-signed-url', status: 200 });
      expect(hit.seen.conversations.length).toBeGreaterThan(0);
      expect(other.seen.requests.length).toBe(before.other);
      expect(other.seen.conversations.length).toBe(before.otherConv);
    },
    30_000,
  );
});
