/**
 * `GET /api/reports/cohorts` over calls made through the server (Twilio emulator → bridge →
 * ElevenLabs / OpenAI emulators) and stored by the server's own store: JSON, CSV, and bad input.
 */
import type { Cohort, CohortReport } from '../../src/app/reports-cohorts';
import type { CallRecord } from '../../src/call/call-record';
import { PUBLIC_URL, startBridge, type Bridge } from '../helpers/bridge';
import { TEST_ADMIN_KEY } from '../helpers/config';

const SPEED = 4;

describe('cohort report', () => {
  let b: Bridge;
  afterAll(async () => {
    await b?.close();
  });

  async function get(path: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_KEY}` }) {
    const res = await fetch(b.base + path, { headers });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  it('compares the providers over the calls of the period (JSON and CSV)', async () => {
    b = await startBridge({ provider: 'elevenlabs', both: true, speed: SPEED, env: { PROVIDER_FAILOVER: 'true' } });
    const from = new Date(Date.now() - 1000).toISOString();
    const place = (path: string) => b.carrier.placeCall({ serverBase: b.base, publicUrl: PUBLIC_URL, path, from: '+14155550123', to: '+15550000000' });

    // 1: ElevenLabs, greeting heard. 2: OpenAI asked for by the operator. 3: ElevenLabs refuses → failover.
    const ended: CallRecord[] = [];
    for (const [path, refuse] of [
      ['/inbound', false],
      ['/inbound?provider=openai', false],
      ['/inbound', true],
    ] as const) {
      b.el!.configure({ signedUrlStatus: refuse ? 503 : undefined });
      const call = await place(path);
      await call.waitFor('media', 10_000);
      await call.hangup();
      ended.push(await b.ended(call.callSid, 10_000));
    }
    const to = new Date(Date.now() + 1000).toISOString();
    const q = `/api/reports/cohorts?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

    // Rows are journaled first and reach the database shortly after.
    let report: CohortReport | undefined;
    const end = Date.now() + 20_000;
    for (;;) {
      const r = await get(q);
      expect(r.status).toBe(200);
      report = JSON.parse(r.text) as CohortReport;
      if (report.cohorts.reduce((n, c) => n + c.calls, 0) >= 3 || Date.now() > end) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const by = (p: string) => report!.cohorts.find((c) => c.provider === p) as Cohort;
    expect(report.from).toBe(from);
    expect(by('elevenlabs')).toMatchObject({
      calls: 2,
      completed: 2,
      completionRate: 1,
      failovers: 1,
      bargeInsPerCall: 0,
      bookingsPerCall: 0,
      leadsPerCall: 0,
    });
    expect(by('openai')).toMatchObject({ calls: 1, completed: 1, completionRate: 1, failovers: 0 });
    // Duration runs from the answer (or, unanswered, the start) to the end, averaged and rounded to 0.1 s.
    const durationS = (r: CallRecord) => (Date.parse(r.endedAt!) - Date.parse(r.answeredAt ?? r.startedAt)) / 1000;
    const meanS = (rs: CallRecord[]) => Number((rs.reduce((s, r) => s + durationS(r), 0) / rs.length).toFixed(1));
    const cohortCalls = { elevenlabs: [ended[0]!, ended[2]!], openai: [ended[1]!] };
    for (const [p, calls] of Object.entries(cohortCalls)) {
      expect(by(p).firstAgentAudioMs.p50).toBeGreaterThan(0);
      expect(by(p).firstAgentAudioMs.p95).toBeGreaterThanOrEqual(by(p).firstAgentAudioMs.p50!);
      expect(by(p).avgDurationS).toBe(meanS(calls));
    }

    const csv = await get(`${q}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]!.split(',')).toEqual([
      'provider',
      'calls',
      'completed',
      'completion_rate',
      'avg_duration_s',
      'first_agent_audio_p50_ms',
      'first_agent_audio_p95_ms',
      'barge_ins_per_call',
      'failovers',
      'bookings_per_call',
      'leads_per_call',
      'from',
      'to',
    ]);
    expect(lines[1]).toMatch(/^elevenlabs,2,2,1,/);
    expect(lines[2]).toMatch(/^openai,1,1,1,/);
    const viaAccept = await get(q, { authorization: `Bearer ${TEST_ADMIN_KEY}`, accept: 'text/csv' });
    expect(viaAccept.text).toBe(csv.text);
  }, 90_000);

  it('refuses a bad period with 400 and a missing key with 401', async () => {
    expect((await get('/api/reports/cohorts?from=yesterday')).status).toBe(400);
    const backwards = await get('/api/reports/cohorts?from=2026-11-02&to=2026-11-01');
    expect(backwards.status).toBe(400);
    expect(JSON.parse(backwards.text).message).toBe('from must be before to');
    expect((await get('/api/reports/cohorts', {})).status).toBe(401);
    const empty = await get('/api/reports/cohorts?from=2000-01-01&to=2000-01-02');
    expect(JSON.parse(empty.text).cohorts).toEqual([
      expect.objectContaining({ provider: 'elevenlabs', calls: 0, completionRate: null }),
      expect.objectContaining({ provider: 'openai', calls: 0 }),
    ]);
  });
});
