/**
 * A tiny provider that exists only in tests, registered through the same registry entry shape as
 * ElevenLabs and OpenAI Realtime (ProviderModule). It speaks PCM16 16 kHz: on connect it greets (a
 * 200 ms tone and an agent transcript turn), and it echoes every caller chunk back as agent audio;
 * after `ECHO_TURN_BYTES` of caller audio it reports a user turn and an agent turn.
 */
import type { ProviderLeg, ProviderModule } from '../../src/providers/types';

const FORMAT = { encoding: 'pcm16le', sampleRate: 16000 } as const;
/** Caller bytes (PCM16 16 kHz: 32 bytes a ms) after which the echo agent reports a turn: 400 ms. */
export const ECHO_TURN_BYTES = 400 * 32;
export const ECHO_GREETING = 'Hello from the echo agent.';

/** 200 ms of a 440 Hz tone, PCM16 LE 16 kHz. */
export function greetingTone(): Buffer {
  const out = Buffer.alloc(200 * 32);
  for (let i = 0; i < out.length / 2; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
  return out;
}

export const echoProvider: ProviderModule = {
  name: 'echo',
  missingConfig: () => [],
  connector: () => ({
    name: 'echo',
    async prepare() {
      return {
        async connect(_ctx, onEvent) {
          let heard = 0;
          let reported = false;
          let closed = false;
          const leg: ProviderLeg = {
            name: 'echo',
            caps: { truncate: false },
            sendAudio(payload) {
              if (closed) return;
              onEvent({ type: 'audio', payload, itemId: 'echo' });
              heard += payload.length;
              if (!reported && heard >= ECHO_TURN_BYTES) {
                reported = true;
                onEvent({ type: 'transcript', role: 'user', text: `caller spoke ${heard} bytes` });
                onEvent({ type: 'transcript', role: 'agent', text: 'I heard you.' });
              }
            },
            sendToolResult: () => undefined,
            async close() {
              closed = true;
            },
          };
          setImmediate(() => {
            onEvent({ type: 'ready', inputFormat: FORMAT, outputFormat: FORMAT, conversationId: 'echo-conversation' });
            onEvent({ type: 'audio', payload: greetingTone(), itemId: 'greeting' });
            onEvent({ type: 'transcript', role: 'agent', text: ECHO_GREETING, itemId: 'greeting' });
          });
          return leg;
        },
      };
    },
  }),
};
