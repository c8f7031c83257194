/** Provider connectors for tests that stop at the webhook answer: each set-up is reported, and none ever connects. */
import type { Connectors } from '../../src/providers';
import type { PreparedProvider } from '../../src/providers/types';

/** ElevenLabs and OpenAI connectors whose `prepare` calls `onPrepare(provider, callSid)` and whose socket never opens. */
export function idleConnectors(onPrepare: (provider: string, callSid: string) => void = () => undefined): Connectors {
  const idle = (name: string) => ({
    name,
    async prepare(ctx: { callSid: string }) {
      onPrepare(name, ctx.callSid);
      return { connect: () => new Promise(() => {}) } as PreparedProvider;
    },
  });
  return { elevenlabs: idle('elevenlabs'), openai: idle('openai') };
}
