/** The ElevenLabs Conversational AI provider (registry entry). Docs: https://elevenlabs.io/docs/eleven-agents/overview. */
import type { ProviderModule } from '../types';
import { createElevenLabsConnector } from './connector';

export const elevenLabsProvider: ProviderModule = {
  name: 'elevenlabs',
  connector: (cfg, log, deps) => createElevenLabsConnector(cfg, log, deps),
  missingConfig: (cfg) => (cfg.elevenLabsApiKey && cfg.ELEVENLABS_AGENT_ID ? [] : ['ELEVENLABS_API_KEY/ELEVENLABS_AGENT_ID']),
};
