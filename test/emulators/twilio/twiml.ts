/**
 * A small TwiML reader for the Twilio carrier emulator: enough XML to find `<Connect><Stream>` (or
 * one-way `<Start><Stream>`), its `<Parameter>`s and the verbs after `</Connect>`.
 * Facts: docs/protocols/twilio.md#twiml-connect-stream (https://www.twilio.com/docs/voice/twiml/stream,
 * https://www.twilio.com/docs/voice/twiml/connect, https://www.twilio.com/docs/voice/twiml/dial).
 */

/** One XML element: name, attributes (entity-decoded), children and direct text. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** What the emulator needs from a voice webhook's TwiML answer. */
export interface ParsedTwiml {
  /** The `<Response>` root, or undefined when the body has none (error 12100). */
  root?: XmlNode;
  /** `<Stream url>` as written (may be relative or carry a query string). */
  streamUrl?: string;
  /** True for `<Connect><Stream>` (bidirectional), false for `<Start><Stream>` (one-way). */
  bidirectional: boolean;
  /** `<Stream>` attributes other than url (name, track, statusCallback, …). */
  streamAttrs: Record<string, string>;
  /** `<Parameter name value>`s, delivered in `start.customParameters`. */
  parameters: Record<string, string>;
  /** `<Connect action>` when present: requested when `<Connect>` ends. */
  connectAction?: string;
  /** Verb names after `</Connect>` (or after `</Start>`), e.g. `['Hangup']` or `['Pause']`. */
  afterConnect: string[];
  /** Every top-level verb name, in order. */
  verbs: string[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decode the five XML entities and numeric character references. */
export function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/**
 * Parse XML into a tree (no DTDs, no CDATA: TwiML never needs them).
 * @throws Error on unbalanced tags.
 */
export function parseXml(xml: string): XmlNode {
  const doc: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [doc];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    stack[stack.length - 1]!.text += xmlUnescape(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (!m[2]) continue; // declaration or comment
    if (m[1]) {
      const open = stack.pop();
      if (!open || open.name !== m[2] || stack.length === 0) throw new Error(`unbalanced </${m[2]}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (m[3] ?? '').matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = xmlUnescape(a[2] ?? a[3] ?? '');
    const node: XmlNode = { name: m[2], attrs, children: [], text: '' };
    stack[stack.length - 1]!.children.push(node);
    if (!m[4]) stack.push(node);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  return doc;
}

/**
 * Read a voice webhook answer. Never throws: an unparsable body or one without `<Response>` yields
 * `root: undefined` (the caller records error 12100).
 */
export function readTwiml(body: string): ParsedTwiml {
  const out: ParsedTwiml = { bidirectional: false, streamAttrs: {}, parameters: {}, afterConnect: [], verbs: [] };
  let doc: XmlNode;
  try {
    doc = parseXml(body);
  } catch {
    return out;
  }
  const root = doc.children.find((c) => c.name === 'Response');
  if (!root) return out;
  out.root = root;
  out.verbs = root.children.map((c) => c.name);
  const idx = root.children.findIndex((c) => (c.name === 'Connect' || c.name === 'Start') && c.children.some((s) => s.name === 'Stream'));
  if (idx < 0) return out;
  const holder = root.children[idx]!;
  const stream = holder.children.find((s) => s.name === 'Stream')!;
  out.bidirectional = holder.name === 'Connect';
  if (holder.name === 'Connect' && holder.attrs.action) out.connectAction = holder.attrs.action;
  const { url, ...rest } = stream.attrs;
  out.streamUrl = url;
  out.streamAttrs = rest;
  for (const p of stream.children) if (p.name === 'Parameter' && p.attrs.name !== undefined) out.parameters[p.attrs.name] = p.attrs.value ?? '';
  out.afterConnect = root.children.slice(idx + 1).map((c) => c.name);
  return out;
}

/**
 * The `<Dial>` target of a TwiML document: `<Dial>+1555…</Dial>` or `<Dial><Number>…</Number></Dial>`
 * (also `<Sip>`/`<Client>`). Undefined when there is no `<Dial>`.
 */
export function dialTarget(body: string): string | undefined {
  let doc: XmlNode;
  try {
    doc = parseXml(body);
  } catch {
    return undefined;
  }
  const dial = doc.children.find((c) => c.name === 'Response')?.children.find((c) => c.name === 'Dial');
  if (!dial) return undefined;
  const inner = dial.children.find((c) => ['Number', 'Sip', 'Client', 'Conference', 'Queue'].includes(c.name));
  return (inner ? inner.text : dial.text).trim() || undefined;
}
