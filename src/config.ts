/**
 * The one place environment variables are read. Every variable of .env.example that the
 * server uses is parsed here with zod; a missing or malformed value fails start-up with one line per
 * variable naming it and what it expects.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { loadAmbience, type AmbienceSource } from './audio/ambience';
import { businessProblems, businessVars } from './business/config';
import { CallbridgeError } from './errors';

/** `''` → undefined, so `PORT=` behaves like an unset variable (zod's coerce would make it 0). */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const str = () => z.preprocess(blank, z.string().optional());
const bool = (def: 'true' | 'false') => z.preprocess(blank, z.stringbool().default(def === 'true'));
const int = (def: number, min = 0) => z.preprocess(blank, z.coerce.number().int().min(min).default(def));
const httpUrl = () => z.preprocess(blank, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional());
const money = () => z.preprocess(blank, z.coerce.number({ error: 'expected an amount in USD, e.g. 25' }).positive('expected an amount above 0').optional());
const wsUrl = () => z.preprocess(blank, z.url({ protocol: /^wss?$/, error: 'expected a ws(s) URL' }).optional());

const Env = z.object({
  // Server
  PORT: int(3000, 0),
  PUBLIC_URL: z.preprocess(blank, z.url({ protocol: /^https?$/, error: 'expected the https base URL carriers reach, e.g. https://calls.example.com' })),
  LOG_LEVEL: z.preprocess(blank, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  ADMIN_API_KEY: z.preprocess(
    blank,
    z.string({ error: 'required: a secret of at least 16 characters for the admin API' }).min(16, 'expected at least 16 characters'),
  ),
  /** Worker processes of this instance (node:cluster), sharing PORT; default: the cores available to the process. 1 = no primary process. */
  WEB_CONCURRENCY: z.preprocess(blank, z.coerce.number().int().min(1).max(64).default(availableParallelism())),
  /** Key of the self-verifying media tokens (HMAC-SHA256): the same on every process and instance of a deployment. */
  CALL_TOKEN_SECRET: z.preprocess(
    blank,
    z
      .string({ error: 'required: a secret of at least 16 characters, the same on every instance (keys the per-call media tokens)' })
      .min(16, 'expected at least 16 characters'),
  ),
  MAX_CONCURRENT_CALLS: int(50, 1),
  /** Answered calls whose media socket has not started yet (counted inside MAX_CONCURRENT_CALLS too); default MAX_CONCURRENT_CALLS. */
  MAX_PENDING_CALLS: z.preprocess(blank, z.coerce.number().int().min(1).optional()),
  /** How long an answered call may wait for its media socket (s); past it the call's token is void and a drain stops waiting for it. */
  PENDING_CALL_TTL_S: int(60, 1),
  DRAIN_TIMEOUT_S: int(30, 0),
  /** Seconds `/ready` answers 503 after SIGTERM while calls are still taken, so a load balancer's health check stops sending first. */
  DRAIN_READY_GRACE_S: int(0, 0),
  /** A call row left open by an instance that died is completed (failed, instance_lost) once it is this old and live nowhere (s, > 15). */
  LOST_CALL_GRACE_S: int(30, 16),
  /** How often rows of lost calls are looked for (s); the first look is this long, at most 20 s, after start-up. */
  LOST_CALL_CHECK_S: int(60, 1),
  /** Largest WebSocket message accepted on carrier sockets (bytes). */
  MAX_FRAME_BYTES: int(64 * 1024, 1024),
  // Audio
  /** WAV looped under the agent's voice and in its silences; unset = no ambience. */
  BACKGROUND_AUDIO: str(),
  /** Ambience gain (dB) relative to the file; −60..12. */
  BACKGROUND_GAIN_DB: z.preprocess(blank, z.coerce.number({ error: 'expected a number of dB, e.g. -20' }).min(-60).max(12).default(-20)),
  // Limits
  /** Spend cap per UTC day (USD); unset = no cap. Past it, new calls hear the fallback message. */
  DAILY_BUDGET_USD: money(),
  /** Per-minute cost of a call on each provider (USD), used only for the daily budget. */
  COST_PER_MIN_ELEVENLABS_USD: z.preprocess(blank, z.coerce.number().min(0).default(0.1)),
  COST_PER_MIN_OPENAI_USD: z.preprocess(blank, z.coerce.number().min(0).default(0.3)),
  /** Concurrent HTTP requests per client address (429 beyond). */
  MAX_HTTP_INFLIGHT_PER_IP: int(100, 1),
  /** Concurrent media sockets per client address (429 before the handshake beyond); carriers stream from few addresses. */
  MAX_MEDIA_SOCKETS_PER_IP: int(500, 1),
  /** Failed admin API key attempts per client address within ADMIN_AUTH_WINDOW_S before `/api/*` answers 429. */
  ADMIN_AUTH_MAX_FAILURES: int(10, 1),
  ADMIN_AUTH_WINDOW_S: int(60, 1),
  // Scale-out
  REDIS_URL: z.preprocess(blank, z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional()),
  REDIS_KEY_PREFIX: z.preprocess(
    blank,
    z
      .string()
      .regex(/^[\w:.-]+$/, 'expected letters, digits, _ : . -')
      .default('callbridge:'),
  ),
  // Dev tunnel (npm run tunnel)
  NGROK_AUTHTOKEN: str(),
  // Routing
  USE_ELEVENLABS_CONVERSATIONAL_AI: bool('true'),
  PROVIDER_FAILOVER: bool('false'),
  // Unleash (optional): the toggle USE_ELEVENLABS_CONVERSATIONAL_AI decides per call (src/flags/)
  UNLEASH_URL: httpUrl(),
  UNLEASH_API_TOKEN: str(),
  UNLEASH_APP_NAME: z.preprocess(blank, z.string().default('callbridge')),
  /** Poll period (ms): a flip reaches every instance within one period plus one fetch. */
  UNLEASH_REFRESH_INTERVAL_MS: int(1000, 250),
  /** Directory of the client's backup file (last known toggles, read when Unleash is down at start). */
  UNLEASH_BACKUP_DIR: str(),
  /** `npm run flag`: admin token, project and environment it changes. */
  UNLEASH_ADMIN_TOKEN: str(),
  UNLEASH_PROJECT: z.preprocess(blank, z.string().default('default')),
  UNLEASH_ENVIRONMENT: z.preprocess(blank, z.string().default('production')),
  // ElevenLabs
  ELEVENLABS_API_KEY: str(),
  ELEVENLABS_CONVERSATIONAL_API_KEY: str(),
  ELEVENLABS_AGENT_ID: str(),
  ELEVENLABS_REGION: z.preprocess(blank, z.enum(['us', 'eu', 'india']).default('us')),
  ELEVENLABS_API_BASE: httpUrl(),
  ELEVENLABS_WEBHOOK_SECRET: str(),
  // OpenAI
  OPENAI_API_KEY: str(),
  OPENAI_REALTIME_MODEL: z.preprocess(blank, z.string().default('gpt-realtime')),
  OPENAI_REALTIME_URL: wsUrl(),
  OPENAI_VOICE: z.preprocess(blank, z.string().default('marin')),
  // Agent
  SYSTEM_PROMPT: z.preprocess(blank, z.string().default('You are a friendly, concise phone receptionist. Keep answers short.')),
  FIRST_MESSAGE: z.preprocess(blank, z.string().default('Hello, thanks for calling. How can I help you today?')),
  BUSINESS_NAME: z.preprocess(blank, z.string().default('our business')),
  BUSINESS_TIMEZONE: businessVars.BUSINESS_TIMEZONE,
  BUSINESS_HOURS: businessVars.BUSINESS_HOURS,
  TRANSFER_NUMBER: str(),
  // Twilio
  TWILIO_ACCOUNT_SID: z.preprocess(
    blank,
    z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'expected AC followed by 32 hex digits')
      .optional(),
  ),
  TWILIO_AUTH_TOKEN: str(),
  TWILIO_PHONE_NUMBER: str(),
  TWILIO_API_BASE: httpUrl(),
  TWILIO_SKIP_SIGNATURE: bool('false'),
  // Exotel (docs/protocols/exotel.md): Connect API credentials (outbound), stream rate and stream auth
  EXOTEL_ACCOUNT_SID: str(),
  EXOTEL_API_KEY: str(),
  EXOTEL_API_TOKEN: str(),
  EXOTEL_SUBDOMAIN: z.preprocess(blank, z.enum(['api.exotel.com', 'api.in.exotel.com']).default('api.exotel.com')),
  EXOTEL_CALLER_ID: str(),
  EXOTEL_APP_ID: str(),
  EXOTEL_API_BASE: httpUrl(),
  EXOTEL_SAMPLE_RATE: z.preprocess(
    blank,
    z
      .enum(['8000', '16000', '24000'], { error: 'expected 8000, 16000 or 24000' })
      .default('8000')
      .transform((v) => Number(v) as 8000 | 16000 | 24000),
  ),
  EXOTEL_STREAM_TOKEN: z.preprocess(
    blank,
    z
      .string()
      .min(16, 'expected at least 16 characters')
      .regex(/^[\w-]+$/, 'expected letters, digits, _ and - only (it goes in a URL)')
      .optional(),
  ),
  EXOTEL_STREAM_USER: str(),
  EXOTEL_STREAM_PASSWORD: str(),
  EXOTEL_WEBHOOK_TOKEN: z.preprocess(
    blank,
    z
      .string()
      .min(16, 'expected at least 16 characters')
      .regex(/^[\w-]+$/, 'expected letters, digits, _ and - only (it goes in a URL)')
      .optional(),
  ),
  // Store (SUPABASE_URL unset → embedded PGlite under DATA_DIR)
  SUPABASE_URL: httpUrl(),
  SUPABASE_SERVICE_ROLE_KEY: str(),
  DATABASE_URL: z.preprocess(blank, z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// connection URL' }).optional()),
  DATA_DIR: z.preprocess(blank, z.string().default('./data')),
  LOGS_DIR: z.preprocess(blank, z.string().default('./logs')),
  // Calendar, email, digest (src/business/config.ts)
  ...businessVars.rest,
});

export type Env = z.infer<typeof Env>;

/** Typed, validated configuration. Adapters receive this; none reads `process.env`. */
export interface Config extends Omit<Env, 'MAX_PENDING_CALLS'> {
  /** MAX_PENDING_CALLS, or MAX_CONCURRENT_CALLS when unset. */
  MAX_PENDING_CALLS: number;
  /** The ElevenLabs API key from ELEVENLABS_API_KEY or ELEVENLABS_CONVERSATIONAL_API_KEY. */
  elevenLabsApiKey?: string;
  /** BACKGROUND_AUDIO decoded at start-up (with BACKGROUND_GAIN_DB), when set. */
  background?: AmbienceSource;
}

/** Thrown by `loadConfig` (code `CB_CONFIG`, category 'application': fix the environment, do not retry); `message` has one line per bad variable. */
export class ConfigError extends CallbridgeError {
  constructor(readonly problems: string[]) {
    super('CB_CONFIG', problems.join('\n'), 'application');
  }
}

/**
 * Parse and validate configuration from `env` (default `process.env`).
 * @throws ConfigError naming every missing or malformed variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = Env.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      const got = env[name];
      problems.push(`${name}: ${issue.message}${got === undefined || got === '' ? ' (not set)' : ''}`);
    }
    throw new ConfigError(problems);
  }
  const cfg: Config = {
    ...parsed.data,
    MAX_PENDING_CALLS: parsed.data.MAX_PENDING_CALLS ?? parsed.data.MAX_CONCURRENT_CALLS,
    elevenLabsApiKey: parsed.data.ELEVENLABS_API_KEY ?? parsed.data.ELEVENLABS_CONVERSATIONAL_API_KEY,
  };
  const needEleven = cfg.USE_ELEVENLABS_CONVERSATIONAL_AI || cfg.PROVIDER_FAILOVER;
  const needOpenAi = !cfg.USE_ELEVENLABS_CONVERSATIONAL_AI || cfg.PROVIDER_FAILOVER;
  if (needEleven && !cfg.elevenLabsApiKey)
    problems.push('ELEVENLABS_API_KEY: required when calls go to ElevenLabs (USE_ELEVENLABS_CONVERSATIONAL_AI=true or PROVIDER_FAILOVER=true) (not set)');
  if (needEleven && !cfg.ELEVENLABS_AGENT_ID) problems.push('ELEVENLABS_AGENT_ID: required when calls go to ElevenLabs (not set)');
  if (needOpenAi && !cfg.OPENAI_API_KEY)
    problems.push('OPENAI_API_KEY: required when calls go to OpenAI Realtime (USE_ELEVENLABS_CONVERSATIONAL_AI=false or PROVIDER_FAILOVER=true) (not set)');
  if (cfg.SUPABASE_URL && !cfg.SUPABASE_SERVICE_ROLE_KEY)
    problems.push('SUPABASE_SERVICE_ROLE_KEY: required when SUPABASE_URL is set (the store writes with the service-role key) (not set)');
  if (cfg.UNLEASH_URL && !cfg.UNLEASH_API_TOKEN)
    problems.push('UNLEASH_API_TOKEN: required when UNLEASH_URL is set (a backend/client token of the Unleash environment) (not set)');
  if (!cfg.TWILIO_SKIP_SIGNATURE && !cfg.TWILIO_AUTH_TOKEN)
    problems.push('TWILIO_AUTH_TOKEN: required to validate X-Twilio-Signature (or set TWILIO_SKIP_SIGNATURE=true for a local tunnel only) (not set)');
  problems.push(...businessProblems(cfg));
  problems.push(...exotelProblems(cfg));
  if (cfg.BACKGROUND_AUDIO) {
    try {
      cfg.background = loadAmbience(cfg.BACKGROUND_AUDIO, cfg.BACKGROUND_GAIN_DB);
    } catch (err) {
      problems.push(`BACKGROUND_AUDIO: cannot use ${cfg.BACKGROUND_AUDIO} as ambience: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

/** Load `.env` from the working directory into `process.env` when present (existing values win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** True when `url`'s host is loopback (`localhost`, `127.0.0.0/8`, `::1`): reachable from this machine only. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

/**
 * Settings that start but leave a hole, as one warning line each; `index.ts` logs them at start-up.
 * The rule for "deployed": PUBLIC_URL is https and not loopback (a Railway domain or a tunnel, both
 * reachable by anyone). Then EXOTEL_WEBHOOK_TOKEN unset means anyone may admit Exotel calls.
 */
export function startupWarnings(cfg: Pick<Config, 'PUBLIC_URL' | 'EXOTEL_WEBHOOK_TOKEN'>): string[] {
  const out: string[] = [];
  const deployed = new URL(cfg.PUBLIC_URL).protocol === 'https:' && !isLoopbackUrl(cfg.PUBLIC_URL);
  if (deployed && !cfg.EXOTEL_WEBHOOK_TOKEN)
    out.push(
      'EXOTEL_WEBHOOK_TOKEN is not set and PUBLIC_URL is public: anyone can admit Exotel calls on /inbound?carrier=exotel ' +
        '(holding call slots, spending provider set-ups). Set it and append &token=<EXOTEL_WEBHOOK_TOKEN> to the Voicebot and Connect applet URLs.',
    );
  return out;
}

/** Exotel variables that only make sense together (Connect API credentials, stream Basic auth). */
function exotelProblems(cfg: Config): string[] {
  const out: string[] = [];
  const rest = {
    EXOTEL_ACCOUNT_SID: cfg.EXOTEL_ACCOUNT_SID,
    EXOTEL_API_KEY: cfg.EXOTEL_API_KEY,
    EXOTEL_API_TOKEN: cfg.EXOTEL_API_TOKEN,
    EXOTEL_CALLER_ID: cfg.EXOTEL_CALLER_ID,
    EXOTEL_APP_ID: cfg.EXOTEL_APP_ID,
  };
  if (Object.values(rest).some((v) => v !== undefined)) {
    for (const [name, v] of Object.entries(rest))
      if (v === undefined) out.push(`${name}: required with the other Exotel Connect API variables (${Object.keys(rest).join(', ')}) (not set)`);
  }
  if ((cfg.EXOTEL_STREAM_USER === undefined) !== (cfg.EXOTEL_STREAM_PASSWORD === undefined)) {
    const [missing, present] =
      cfg.EXOTEL_STREAM_USER === undefined ? ['EXOTEL_STREAM_USER', 'EXOTEL_STREAM_PASSWORD'] : ['EXOTEL_STREAM_PASSWORD', 'EXOTEL_STREAM_USER'];
    out.push(`${missing}: required with ${present} (stream Basic credentials) (not set)`);
  }
  return out;
}
