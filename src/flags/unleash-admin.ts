/**
 * A small client of the Unleash Admin API for the provider toggle: create it, set the gradual
 * rollout (flexibleRollout sticky on callSid), turn the environment on or off, read its state.
 * Used by `npm run flag` and the tests. Endpoints (Unleash 7, header `Authorization: <admin token>`;
 * https://docs.getunleash.io/reference/api/unleash/features):
 * - `GET/POST  {api}/admin/projects/{project}/features[/{name}]`
 * - `POST      {api}/admin/projects/{project}/features/{name}/environments/{env}/strategies`
 * - `PUT       {api}/admin/projects/{project}/features/{name}/environments/{env}/strategies/{id}`
 * - `POST      {api}/admin/projects/{project}/features/{name}/environments/{env}/on|off`
 */
import { CallbridgeError, httpErrorCode, httpStatusCategory, type HttpErrorCategory } from '../errors';
import { TOGGLE_NAME } from './types';

export interface UnleashAdminOptions {
  /** API base as the client uses it, e.g. `https://unleash.example.com/api/` (`/api` appended when missing). */
  url: string;
  /** Admin API token (`*:*.<secret>`) or a personal access token. */
  token: string;
  project?: string;
  environment: string;
  toggle?: string;
  /** Per-request timeout (ms); default 10 000. */
  timeoutMs?: number;
}

interface Strategy {
  id?: string;
  name: string;
  constraints?: unknown[];
  parameters?: Record<string, string>;
}

export interface ToggleStatus {
  exists: boolean;
  environment: string;
  enabled: boolean;
  /** Percent of calls on ElevenLabs by the unconstrained flexibleRollout, when there is one. */
  rollout?: number;
  strategies: Array<{ name: string; parameters: Record<string, string>; constraints: number }>;
}

/**
 * An Admin API request failed. `status` is the HTTP status (0 = no answer). Codes and categories
 * (https://docs.getunleash.io/reference/api/unleash):
 * - `CB_UNLEASH_UNREACHABLE` ('connectivity', status 0): refused, reset, DNS, or no answer within the timeout
 * - `CB_UNLEASH_AUTH` ('auth'): 401 / 403, the token is wrong or lacks the permission
 * - `CB_UNLEASH_NOT_FOUND` ('bad_request'): 404 where the toggle or project must exist
 * - `CB_UNLEASH_BAD_REQUEST` ('bad_request'): any other 4xx (400 invalid strategy, 409 …)
 * - `CB_UNLEASH_RATE_LIMIT` ('rate_limit'): 429
 * - `CB_UNLEASH_SERVER` ('server'): 5xx, or a 2xx answer that is not JSON
 */
export class UnleashAdminError extends CallbridgeError {
  declare readonly code: `CB_UNLEASH_${string}`;
  declare readonly category: HttpErrorCategory;

  constructor(
    code: `CB_UNLEASH_${string}`,
    message: string,
    category: HttpErrorCategory,
    readonly status: number,
    opts?: ErrorOptions,
  ) {
    super(code, message, category, opts);
  }
}

/** A non-2xx answer → UnleashAdminError by its status (see httpStatusCategory). */
function statusError(message: string, status: number): UnleashAdminError {
  const category = httpStatusCategory(status);
  return new UnleashAdminError(status === 404 ? 'CB_UNLEASH_NOT_FOUND' : httpErrorCode('CB_UNLEASH', category), message, category, status);
}

export class UnleashAdmin {
  private readonly api: string;
  private readonly project: string;
  readonly toggle: string;
  readonly environment: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: UnleashAdminOptions) {
    const u = new URL(opts.url);
    if (!/\/api\/?$/.test(u.pathname)) u.pathname = u.pathname.replace(/\/?$/, '/api');
    this.api = u.toString().replace(/\/?$/, '/');
    this.project = opts.project ?? 'default';
    this.toggle = opts.toggle ?? TOGGLE_NAME;
    this.environment = opts.environment;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private featurePath(rest = ''): string {
    return `admin/projects/${encodeURIComponent(this.project)}/features/${encodeURIComponent(this.toggle)}${rest}`;
  }

  private envPath(rest: string): string {
    return this.featurePath(`/environments/${encodeURIComponent(this.environment)}${rest}`);
  }

  private async call<T>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<{ status: number; body: T }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.api + path, {
        method,
        headers: { Authorization: this.opts.token, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text(); // the timeout covers the body too
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
      throw new UnleashAdminError(httpErrorCode('CB_UNLEASH', 'connectivity'), `Unleash admin API unreachable at ${this.api}: ${why}`, 'connectivity', 0, {
        cause: err,
      });
    }
    if (!res.ok && !okStatuses.includes(res.status)) throw statusError(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`, res.status);
    try {
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    } catch (err) {
      if (!res.ok) return { status: res.status, body: undefined as T }; // an accepted 404 is read by its status alone
      throw new UnleashAdminError(
        httpErrorCode('CB_UNLEASH', 'server'),
        `${method} ${path} → ${res.status}: not JSON: ${text.slice(0, 300)}`,
        'server',
        res.status,
        {
          cause: err,
        },
      );
    }
  }

  /** Create the toggle (type release) unless it exists. Resolves true when it was created. */
  async ensureToggle(): Promise<boolean> {
    const got = await this.call('GET', this.featurePath(), undefined, [404]);
    if (got.status !== 404) return false;
    await this.call('POST', `admin/projects/${encodeURIComponent(this.project)}/features`, {
      name: this.toggle,
      type: 'release',
      description: 'true → ElevenLabs Conversational AI, false → OpenAI Realtime (per call, sticky on callSid)',
    });
    return true;
  }

  private async strategies(): Promise<Strategy[]> {
    const got = await this.call<{ environments?: Array<{ name: string; enabled: boolean; strategies?: Strategy[] }> }>('GET', this.featurePath());
    return got.body.environments?.find((e) => e.name === this.environment)?.strategies ?? [];
  }

  /**
   * Route `percent` % of calls (0–100) to ElevenLabs, sticky on callSid, and turn the environment on.
   * @throws RangeError for a percent outside 0–100; UnleashAdminError on API failure.
   */
  async setRollout(percent: number): Promise<void> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`rollout must be a whole percent 0–100, got ${percent}`);
    await this.ensureToggle();
    const parameters = { rollout: String(percent), stickiness: 'callSid', groupId: this.toggle };
    const existing = (await this.strategies()).find((s) => s.name === 'flexibleRollout' && !s.constraints?.length);
    const strategy = { name: 'flexibleRollout', parameters, constraints: [] };
    if (existing?.id) await this.call('PUT', this.envPath(`/strategies/${encodeURIComponent(existing.id)}`), strategy);
    else await this.call('POST', this.envPath('/strategies'), strategy);
    await this.setEnabled(true);
  }

  /** Add a strategy as given (e.g. a constrained one for targeting). */
  async addStrategy(strategy: Strategy): Promise<void> {
    await this.ensureToggle();
    await this.call('POST', this.envPath('/strategies'), { constraints: [], ...strategy });
  }

  /** Turn the toggle on or off in the environment (off → every call takes OpenAI Realtime). */
  async setEnabled(on: boolean): Promise<void> {
    await this.call('POST', this.envPath(on ? '/on' : '/off'));
  }

  async status(): Promise<ToggleStatus> {
    const got = await this.call<{ environments?: Array<{ name: string; enabled: boolean; strategies?: Strategy[] }> }>(
      'GET',
      this.featurePath(),
      undefined,
      [404],
    );
    if (got.status === 404) return { exists: false, environment: this.environment, enabled: false, strategies: [] };
    const env = got.body.environments?.find((e) => e.name === this.environment);
    const strategies = (env?.strategies ?? []).map((s) => ({ name: s.name, parameters: s.parameters ?? {}, constraints: s.constraints?.length ?? 0 }));
    const rollout = strategies.find((s) => s.name === 'flexibleRollout' && s.constraints === 0)?.parameters.rollout;
    return {
      exists: true,
      environment: this.environment,
      enabled: env?.enabled ?? false,
      rollout: rollout === undefined ? undefined : Number(rollout),
      strategies,
    };
  }
}
