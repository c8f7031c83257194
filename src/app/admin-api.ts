/**
 * Operator API (Bearer ADMIN_API_KEY, constant-time compare): place an outbound call, list live
 * calls of every instance, read one call with its transcript, hang up or transfer a live call.
 * Contract: README.md "Call control API".
 *
 * | route | answer |
 * |---|---|
 * | `POST /api/calls {to, carrier?, provider?, prompt?, firstMessage?}` | 201 `{callSid}`; 400 field errors; 503 draining / budget spent; 502 carrier refused |
 * | `GET /api/calls/active` | `{count, calls: LiveCallInfo[]}` |
 * | `GET /api/calls/:callSid` | the call record (+ `carrierStatus` from status callbacks); 404 |
 * | `POST /api/calls/:callSid/hangup` | 200 `{callSid, result: 'hangup'}`; 404 not live; 502 |
 * | `POST /api/calls/:callSid/transfer {to}` | 200 `{callSid, result: 'transfer', to}`; 400; 404; 502 |
 */
import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { recordOfStored } from '../call/persist';
import type { CallRegistry } from '../call/registry';
import { DEFAULT_CARRIER } from '../carriers';
import type { CallControls, Carrier } from '../carriers/types';
import type { Config } from '../config';
import type { CarrierName } from '../identity';
import type { CallDirectory, ControlResult, OutboundOptionsStore } from '../cluster/types';
import { CallbridgeError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Store } from '../store/types';
import { requireAdmin } from './admin-auth';
import type { AdmissionLimits } from './limits';
import type { ServerState } from './probes';
import type { CarrierStatusBook } from './carrier-status';

/** E.164: + then up to 15 digits (ITU-T E.164; https://www.twilio.com/docs/glossary/what-e164). */
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number like +14155550100');

/** The body of `POST /api/calls`; `carrier` and `provider` must name entries of the registries this server was built with. */
function placeCallBody(carriers: ReadonlyMap<CarrierName, unknown>, isProvider: (name: unknown) => boolean) {
  const known = (names: Iterable<string>) => `expected one of ${[...names].join(', ')}`;
  return z.object({
    to: E164,
    carrier: z
      .string()
      .refine((c) => carriers.has(c), { message: known(carriers.keys()) })
      .optional(),
    provider: z
      .string()
      .refine((p) => isProvider(p), { message: 'unknown provider' })
      .optional(),
    prompt: z.string().min(1).max(20_000).optional(),
    firstMessage: z.string().min(1).max(2_000).optional(),
  });
}
const TransferBody = z.object({ to: E164, reason: z.string().max(200).optional() });

/** A call from the store (ended, not in memory), or undefined when absent or the store is unreachable. */
async function storedCall(d: AdminDeps, sid: string) {
  try {
    const found = await d.store?.getCall(sid);
    return found && recordOfStored(found.call, found.turns);
  } catch (err) {
    d.log.warn({ err: (err as Error).message, callSid: sid }, 'store read failed for GET /api/calls/:callSid');
    return undefined;
  }
}

export interface AdminDeps {
  cfg: Config;
  log: Logger;
  state: ServerState;
  registry: CallRegistry;
  directory: CallDirectory;
  outbound: OutboundOptionsStore;
  /** Call control by carrier (the carriers' own, or overrides). */
  controls: CallControls;
  /** The carriers of this server, by name (call control, answer and status-callback URLs of placed calls). */
  carriers: ReadonlyMap<CarrierName, Carrier>;
  /** Whether a `provider` named in a request is in the provider registry. */
  isProvider(name: unknown): boolean;
  limits: AdmissionLimits;
  book: CarrierStatusBook;
  /** Ended calls no longer in memory are read from here. */
  store?: Store;
  /** Bodies refused with 400 are counted in `callbridge_bad_messages_total{source="admin_api",reason="bad_shape"}`. */
  metrics?: Pick<Metrics, 'badMessagesTotal'>;
}

/** 400 with one entry per bad field (`{error: 'bad_request', fields: {to: ['…']}}`); logged once and counted. */
function badRequest(d: AdminDeps, route: string, res: Response, error: z.ZodError): void {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) (fields[issue.path.join('.') || '(body)'] ??= []).push(issue.message);
  d.metrics?.badMessagesTotal.inc({ source: 'admin_api', reason: 'bad_shape' });
  d.log.warn({ route, fields: Object.keys(fields).slice(0, 10) }, 'admin API body refused');
  res.status(400).json({ error: 'bad_request', message: 'invalid request body', fields });
}

function controlAnswer(res: Response, callSid: string, result: ControlResult, extra: Record<string, string>): void {
  if (result.ok) res.json({ callSid, ...extra });
  else if (result.reason === 'not_found') res.status(404).json({ error: 'not_found', message: `no live call ${callSid}` });
  else res.status(502).json({ error: 'carrier_error', message: result.message });
}

export function adminRouter(d: AdminDeps): Router {
  const r = Router();
  r.use('/api', requireAdmin(d.cfg.ADMIN_API_KEY));
  const PlaceCallBody = placeCallBody(d.carriers, d.isProvider);

  r.post('/api/calls', async (req, res) => {
    const parsed = PlaceCallBody.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(d, 'POST /api/calls', res, parsed.error);
    const { to, provider, prompt, firstMessage } = parsed.data;
    const carrier = parsed.data.carrier ?? DEFAULT_CARRIER;
    if (d.state.draining) return void res.status(503).json({ error: 'draining', message: 'this instance is shutting down; retry on another' });
    if (d.limits.overBudget()) return void res.status(503).json({ error: 'budget_exceeded', message: 'DAILY_BUDGET_USD is spent for today' });
    const placing = d.carriers.get(carrier);
    const control = d.controls[carrier];
    if (!placing || !control) return void res.status(400).json({ error: 'bad_request', fields: { carrier: [`${carrier} is not served here`] } });
    const rid = randomBytes(12).toString('hex');
    await d.outbound.put(rid, { provider, prompt, firstMessage });
    try {
      const { callSid } = await control.placeCall({
        to,
        answerUrl: placing.answerUrl(rid),
        statusCallbackUrl: placing.statusCallbackUrl(),
      });
      d.log.info({ callSid, carrier, to, provider }, 'outbound call placed');
      res.status(201).json({ callSid });
    } catch (err) {
      const e = err as Error;
      d.log.warn({ carrier, err: e.message }, 'outbound call placement failed');
      const status = err instanceof CallbridgeError && err.category === 'bad_request' ? 400 : 502;
      res.status(status).json({ error: 'carrier_error', message: e.message });
    }
  });

  r.get('/api/calls/active', async (_req, res) => {
    const calls = await d.directory.active();
    res.json({ count: calls.length, calls });
  });

  r.get('/api/calls/:callSid', async (req, res) => {
    const sid = req.params.callSid;
    const call = d.registry.find(sid) ?? (await d.directory.findLive(sid)) ?? (await storedCall(d, sid));
    const carrierStatus = d.book.get(sid);
    if (!call && !carrierStatus) return void res.status(404).json({ error: 'not_found', message: `no call ${sid}` });
    res.json({ ...(call ?? { callSid: sid }), ...(carrierStatus ? { carrierStatus } : {}) });
  });

  r.post('/api/calls/:callSid/hangup', async (req, res) => {
    const sid = req.params.callSid;
    controlAnswer(res, sid, await d.directory.hangup(sid, 'admin_hangup'), { result: 'hangup' });
  });

  r.post('/api/calls/:callSid/transfer', async (req, res) => {
    const parsed = TransferBody.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(d, 'POST /api/calls/:callSid/transfer', res, parsed.error);
    const sid = req.params.callSid;
    const result = await d.directory.transfer(sid, parsed.data.to, parsed.data.reason ?? 'admin_transfer');
    controlAnswer(res, sid, result, { result: 'transfer', to: parsed.data.to });
  });
  return r;
}
