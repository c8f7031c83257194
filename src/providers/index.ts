/**
 * Provider registry: one line per provider (STYLE.md §2).
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createElevenLabsConnector } from './elevenlabs/connector';
import { createOpenAiConnector } from './openai-realtime/connector';
import type { ProviderConnector, ProviderName } from './types';

export type Connectors = Record<ProviderName, ProviderConnector>;

export function createConnectors(cfg: Config, log: Logger): Connectors {
  return {
    elevenlabs: createElevenLabsConnector(cfg, log),
    openai: createOpenAiConnector(cfg, log),
  };
}
