/**
 * The demo's scripted agent at work on the business side: once the caller has asked for an
 * appointment, it calls the tools through the provider emulator (ElevenLabs `client_tool_call`,
 * OpenAI function call), exactly as a real agent would: check_availability, save_lead,
 * book_appointment. Then it reports the booking, the stored transcript and the confirmation email.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CallbridgeServer } from '../../src/app/build-server';
import type { Config } from '../../src/config';
import { addDays, localDate, localTime } from '../../src/business/time';
import type { OutboxMailer } from '../../src/business/mailer';

/** Run one tool as the model would; resolves with the bridge's answer as the model reads it. */
export type CallTool = (name: string, args: Record<string, unknown>) => Promise<{ output: string; isError: boolean }>;

export interface DemoBookingResult {
  ok: boolean;
  lines: string[];
  start?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait (up to `timeoutMs`) until the store answers: a fresh embedded database takes a few seconds to create. */
export async function storeReady(srv: CallbridgeServer, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end && !(await srv.store.healthy());) await sleep(100);
}

/**
 * Wait for the caller's first turn, then book the first free hour from tomorrow 10:00 on (the
 * scripted caller asks for "tomorrow at ten"), in BUSINESS_TIMEZONE.
 */
export async function bookDuringCall(
  srv: CallbridgeServer,
  cfg: Config,
  callSid: () => string | undefined,
  callTool: CallTool,
  log: (line: string) => void,
): Promise<DemoBookingResult> {
  const lines: string[] = [];
  for (let i = 0; i < 1200; i++) {
    const sid = callSid();
    if (sid && srv.registry.find(sid)?.turns.some((t) => t.role === 'user')) break;
    await sleep(50);
  }
  const run = async (name: string, args: Record<string, unknown>) => {
    const t0 = Date.now();
    const r = await callTool(name, args);
    log(`tool ${name} → ${r.isError ? 'error' : 'ok'} in ${Date.now() - t0} ms`);
    return { ...r, json: JSON.parse(r.output) as Record<string, unknown> };
  };
  const tz = cfg.BUSINESS_TIMEZONE;
  let start: string | undefined;
  for (let d = 1; d <= 14 && !start; d++) {
    const date = addDays(localDate(Date.now(), tz), d);
    const a = await run('check_availability', { date, duration_minutes: 60 });
    const slots = (a.json.slots as string[] | undefined) ?? [];
    start = slots.find((s) => localTime(Date.parse(s), tz) >= '10:00');
  }
  if (!start) return { ok: false, lines: ['booking: no free hour in the next 14 days'] };
  await run('save_lead', { name: 'John', company: 'A Plumbing company', need: 'an appointment' });
  const b = await run('book_appointment', {
    name: 'John',
    phone: '+14155550123',
    email: 'john@example.com',
    start,
    duration_minutes: 60,
    notes: 'booked on the demo call',
  });
  if (b.isError) return { ok: false, lines: [`booking: refused: ${b.output}`] };
  const calendar = srv.business.calendar.kind === 'google' ? `google event ${String(b.json.calendar_event_id)}` : srv.business.calendar.kind;
  lines.push(`booking: ${start} (${tz}), 60 min, appointment ${String(b.json.appointment_id)}, calendar ${calendar}`);
  return { ok: true, lines, start };
}

/** After the call: stored transcript rows and the confirmation email (outbox file or Resend id). */
export async function businessReport(srv: CallbridgeServer, callSid: string): Promise<{ ok: boolean; lines: string[] }> {
  await srv.business.settle();
  await srv.store.flush(10_000);
  const stored = await srv.store.getCall(callSid);
  const lines = [`store (${srv.store.kind}): call row ${stored ? 'saved' : 'MISSING'}, ${stored?.turns.length ?? 0} transcript rows`];
  let email = false;
  if (srv.business.mailer.kind === 'outbox') {
    const dir = (srv.business.mailer as OutboxMailer).dir;
    const files = (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => f.startsWith('confirmation_') && f.endsWith('.eml'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (files[0]) {
      email = true;
      const eml = readFileSync(files[0], 'utf8');
      const cut = eml.indexOf('\r\n\r\n');
      const head = eml.slice(0, cut);
      const body = eml.slice(cut + 4);
      lines.push(
        `email (outbox): ${files[0]}`,
        ...head
          .split('\r\n')
          .filter((l) => /^(From|To|Subject):/.test(l))
          .map((l) => `  ${l}`),
        ...body
          .trim()
          .split('\r\n')
          .map((l) => `  | ${l}`),
      );
    }
  } else {
    email = true;
    lines.push('email: sent through Resend (see the Resend dashboard)');
  }
  return { ok: !!stored && stored.turns.length >= 2 && email, lines };
}
