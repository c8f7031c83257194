/**
 * The chart of a bench run, as a hand-written SVG string (no dependency): two panels against calls,
 * the worse direction's p99 latency (ms, with the 20 ms budget dashed) and CPU per call (% of one
 * core), one line per target, callbridge beside the floor (bench/forwarder.ts).
 */
import type { BenchRun, TargetStep } from './bench-report';
import { worseP99 } from './bench-report';

const W = 960;
const H = 380;
const PANEL = { w: 370, h: 250, top: 60, left: [70, 540] };
const COLOURS: Record<string, string> = { callbridge: '#c0392b', forwarder: '#2471a3' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** About five round tick values from 0 to at least `max`. */
function ticks(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.01; v += step) out.push(Number(v.toPrecision(6)));
  if (out[out.length - 1]! < max) out.push(Number((out[out.length - 1]! + step).toPrecision(6)));
  return out;
}

interface Panel {
  title: string;
  unit: string;
  value: (s: TargetStep) => number;
  /** A horizontal reference line (value, label). */
  line?: [number, string];
  /** Top of the axis at most; points above it sit on the top edge, labelled with ↑ and their value. */
  cap?: number;
}

function panel(p: Panel, left: number, steps: TargetStep[], xTicks: number[]): string {
  const xMax = xTicks[xTicks.length - 1]!;
  const vals = steps.map(p.value).filter(Number.isFinite);
  const yTicks = ticks(Math.min(p.cap ?? Infinity, Math.max(1e-6, ...vals, p.line ? p.line[0] * 1.2 : 0)));
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (v: number) => left + (v / xMax) * PANEL.w;
  const y = (v: number) => PANEL.top + PANEL.h - (Math.min(v, yMax) / yMax) * PANEL.h;
  const out: string[] = [`<text x="${left}" y="${PANEL.top - 14}" class="t">${esc(p.title)}</text>`];
  for (const t of yTicks) {
    out.push(`<line x1="${left}" x2="${left + PANEL.w}" y1="${y(t)}" y2="${y(t)}" class="g"/>`);
    out.push(`<text x="${left - 6}" y="${y(t) + 4}" class="a" text-anchor="end">${t}</text>`);
  }
  for (const t of xTicks) out.push(`<text x="${x(t)}" y="${PANEL.top + PANEL.h + 18}" class="a" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${left + PANEL.w / 2}" y="${PANEL.top + PANEL.h + 38}" class="a" text-anchor="middle">concurrent calls</text>`);
  const [ux, uy] = [left - 48, PANEL.top + PANEL.h / 2];
  out.push(`<text x="${ux}" y="${uy}" class="a" text-anchor="middle" transform="rotate(-90 ${ux} ${uy})">${esc(p.unit)}</text>`);
  out.push(`<rect x="${left}" y="${PANEL.top}" width="${PANEL.w}" height="${PANEL.h}" class="f"/>`);
  if (p.line) {
    out.push(`<line x1="${left}" x2="${left + PANEL.w}" y1="${y(p.line[0])}" y2="${y(p.line[0])}" class="l"/>`);
    out.push(`<text x="${left + PANEL.w - 4}" y="${y(p.line[0]) + 14}" class="a" text-anchor="end">${esc(p.line[1])}</text>`);
  }
  for (const [k, name] of Object.keys(COLOURS).entries()) {
    const pts = steps.filter((s) => s.target === name && s.calls > 0 && Number.isFinite(p.value(s)));
    if (!pts.length) continue;
    const c = COLOURS[name];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((s) => `${x(s.calls)},${y(p.value(s))}`).join(' ')}"/>`);
    for (const s of pts) {
      const v = p.value(s);
      out.push(`<circle cx="${x(s.calls)}" cy="${y(v)}" r="3.5" fill="${c}"/>`);
      const label = v > yMax ? `↑${Math.round(v)}` : String(v);
      const ly = v > yMax ? y(v) + 14 + 12 * k : y(v) - 6; // off-scale values stacked under the top edge
      out.push(`<text x="${x(s.calls) + (v > yMax ? -5 : 5)}" y="${ly}" class="v" fill="${c}"${v > yMax ? ' text-anchor="end"' : ''}>${label}</text>`);
    }
  }
  return out.join('\n');
}

/** The SVG document for `run`. */
export function chartSvg(run: BenchRun): string {
  const steps = run.steps;
  const xTicks = ticks(Math.max(10, ...steps.map((s) => s.calls)) * 1.08);
  const procs = run.workers > 1 ? `, callbridge WEB_CONCURRENCY=${run.workers}` : '';
  const psi = Math.max(...steps.map((s) => s.peers.cpuPressurePct));
  const when = `${run.date.slice(0, 16).replace('T', ' ')} UTC · Node ${run.node}`;
  const note = `${when} · ${run.windowS} s per step · agent chunks of ${run.chunkMs} ms${procs} · CPU pressure (PSI) up to ${psi} %`;
  const legend = Object.entries(COLOURS)
    .map(([name, c], i) => {
      const label = name === 'forwarder' ? 'minimal forwarder (the floor)' : name;
      return `<rect x="${70 + i * 260}" y="${H - 22}" width="14" height="4" fill="${c}"/><text x="${90 + i * 260}" y="${H - 16}" class="a">${label}</text>`;
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    '<style>.t{font-size:14px;font-weight:bold}.a{font-size:11px;fill:#333}.v{font-size:10px}.g{stroke:#ddd}.f{fill:none;stroke:#999}' +
      '.l{stroke:#555;stroke-dasharray:5 4}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${70}" y="20" class="a">npm run bench · ${esc(note)}</text>`,
    panel(
      {
        title: 'p99 latency, worse direction (peer stalls left out)',
        unit: 'ms',
        value: worseP99,
        line: [run.p99LimitMs, `${run.p99LimitMs} ms budget`],
        cap: 5 * run.p99LimitMs,
      },
      PANEL.left[0]!,
      steps,
      xTicks,
    ),
    panel({ title: 'CPU per call', unit: '% of one core', value: (s) => s.cpuPerCallPct }, PANEL.left[1]!, steps, xTicks),
    legend,
    '</svg>',
    '',
  ].join('\n');
}
