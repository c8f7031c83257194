/** Agent audio payloads that do not fit the declared format (src/providers/audio-payload.ts). */
import { MULAW_8K } from '../../../src/audio/format';
import { decodeAudioPayload } from '../../../src/providers/audio-payload';

const PCM16_16K = { encoding: 'pcm16le', sampleRate: 16000 } as const;

describe('decodeAudioPayload', () => {
  it('decodes base64 with or without padding', () => {
    expect(decodeAudioPayload(Buffer.from([1, 2, 3, 4]).toString('base64'), PCM16_16K)).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(decodeAudioPayload('AQID', MULAW_8K)).toEqual(Buffer.from([1, 2, 3]));
    expect(decodeAudioPayload('AQI', PCM16_16K)).toEqual(Buffer.from([1, 2]));
  });

  it('names why a payload does not fit', () => {
    expect(decodeAudioPayload('', MULAW_8K)).toBe('empty');
    expect(decodeAudioPayload('%%%not base64%%%', MULAW_8K)).toBe('bad_base64');
    expect(decodeAudioPayload('QUJD=extra', MULAW_8K)).toBe('bad_base64');
    expect(decodeAudioPayload('A', MULAW_8K)).toBe('bad_base64');
    expect(decodeAudioPayload('AQID', PCM16_16K)).toBe('odd_pcm16_length');
  });
});
