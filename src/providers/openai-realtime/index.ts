/** The OpenAI Realtime provider (registry entry). Docs: https://platform.openai.com/docs/guides/realtime. */
import type { ProviderModule } from '../types';
import { createOpenAiConnector } from './connector';

export const openAiRealtimeProvider: ProviderModule = {
  name: 'openai',
  connector: (cfg, log, deps) => createOpenAiConnector(cfg, log, deps),
  missingConfig: (cfg) => (cfg.OPENAI_API_KEY ? [] : ['OPENAI_API_KEY']),
};
