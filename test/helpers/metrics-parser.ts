/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): HELP/TYPE lines,
 * samples with escaped label values, special floats; throws on anything malformed, on a sample of a
 * family without a TYPE, on families split across the text, and on histograms whose buckets are not
 * cumulative or whose `+Inf` bucket differs from `_count`.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<MetricType, string[]> = {
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

function parseValue(s: string, line: number): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad sample value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(text: string, line: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return [labels, text.slice(i + 1)];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value of ${name} is not quoted`);
    let v = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const n = text[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`line ${line}: bad escape \\${n}`);
      } else v += text[j];
    }
    if (j >= text.length) throw new Error(`line ${line}: unterminated label value`);
    labels[name] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after label ${name}`);
  }
}

/** Parse a whole exposition. @throws Error naming the line of the first violation. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  let current: MetricFamily | undefined;
  const owner = (sample: string): MetricFamily | undefined => {
    for (const f of families.values()) if (SUFFIXES[f.type].some((s) => f.name + s === sample)) return f;
    return undefined;
  };
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // plain comment
      const [, kind, name, rest = ''] = m;
      if (!NAME.test(name!)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (closed.has(name!)) throw new Error(`line ${line}: family ${name} appears twice`);
      if (current && current.name !== name) closed.add(current.name);
      let fam = families.get(name!);
      if (!fam) families.set(name!, (fam = { name: name!, type: 'untyped', samples: [] }));
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${line}: bad type ${rest}`);
        if (fam.samples.length) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        fam.type = rest as MetricType;
      } else fam.help = rest;
      current = fam;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{|\s)(.*)$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, open, tail] = m;
    let labels: Record<string, string> = {};
    let rest = tail!;
    if (open === '{') [labels, rest] = parseLabels(tail!, line);
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`line ${line}: expected a value (and optional timestamp)`);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp ${parts[1]}`);
    const fam = owner(name!);
    if (!fam || fam.type === 'untyped') throw new Error(`line ${line}: sample ${name} has no TYPE line`);
    if (closed.has(fam.name) || current !== fam) throw new Error(`line ${line}: sample ${name} outside its family block`);
    if (fam.type === 'histogram' && name === fam.name + '_bucket' && labels.le === undefined) throw new Error(`line ${line}: bucket without le`);
    fam.samples.push({ name: name!, labels, value: parseValue(parts[0]!, line) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const series = new Map<string, Sample[]>();
  const key = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const s of f.samples) if (s.name.endsWith('_bucket')) series.set(key(s.labels), [...(series.get(key(s.labels)) ?? []), s]);
  for (const [k, buckets] of series) {
    let prev = -Infinity;
    let last = -1;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, 0);
      if (le <= prev) throw new Error(`${f.name}: buckets not in increasing le order`);
      if (b.value < last) throw new Error(`${f.name}: bucket counts are not cumulative`);
      prev = le;
      last = b.value;
    }
    if (prev !== Infinity) throw new Error(`${f.name}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === f.name + '_count' && key(s.labels) === k);
    if (!count || count.value !== last) throw new Error(`${f.name}: _count differs from the +Inf bucket`);
  }
}

/** The value of one sample (`name` with exactly `labels`), or undefined. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
    if (s) return s.value;
  }
  return undefined;
}
