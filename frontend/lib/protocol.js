// @ts-check
/**
 * Decoding of server messages and encoding of commands (wire protocol version 1; the
 * schema is backend/protocol.py, explained in docs/protocol.md).
 *
 * Pure logic, no DOM: tested under `node --test tests/js`.  The page refuses to draw
 * a protocol version it does not speak, and a message whose shape is wrong, instead
 * of drawing something wrong.  Unknown extra fields are kept (the server may add
 * optional ones without a version bump).
 */

export const PROTOCOL_VERSION = 1;

/** Byte values of `page_state` (allocator_model/kernel/pagestate.py). */
export const PAGE_STATE = Object.freeze({ FREE: 0, ALLOCATED: 1, FLAGGED: 2, ISOLATED: 3, PCP: 4 });
export const PAGE_STATE_NAMES = Object.freeze(['free', 'allocated', 'hinted', 'isolated', 'pcp']);
/** Byte values of `host_backing`. */
export const HOST_STATE = Object.freeze({ NOT_BACKED: 0, RESIDENT: 1, DISCARDED: 2 });
export const HOST_STATE_NAMES = Object.freeze(['not backed', 'resident', 'discarded']);

/** Messages checked here.  Others decode as `{type: 'other', kind, message}`: quiz
 * mode's `question` and `reveal` (lib/quiz.js checks them), the controller's `substep`
 * (views/substeps.js), and any the server adds later, which the page leaves alone. */
const SERVER_TYPES = new Set(['hello', 'snapshot', 'delta', 'ack', 'error']);

export const CLIENT_TYPES = Object.freeze([
  'ping', 'get_snapshot', 'step', 'back', 'first', 'last', 'seek', 'align', 'run_to', 'play', 'pause',
  'speed', 'reset', 'alloc', 'free', 'touch', 'advance', 'configure', 'follow', 'breakpoints',
  'branch', 'quiz', 'answer', 'skip', 'substep',
]);

export class ProtocolError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * @typedef {{index: number, before: number | null, before_flagged: boolean | null,
 *            after: number | null, after_flagged: boolean | null,
 *            flagged_before: number}} WireBoundary
 *   v2: the boundary stands in front of the entry at `index` (`length`: after the tail)
 * @typedef {{order: number, migratetype: string, length: number, head: number[],
 *            tail: number[], head_flagged: boolean[], tail_flagged: boolean[],
 *            flagged?: number, boundary?: WireBoundary | null}} WireList
 * @typedef {{min: number, low: number, high: number}} Watermarks
 * @typedef {{name: string, start_pfn: number, spanned_pages: number, managed_pages: number,
 *            nr_free: number[], nr_free_pages: number, watermarks: Watermarks,
 *            lists: WireList[], pageblock_mt: string, page_state: string,
 *            host_backing: string, pcp?: import('./pcp.js').PcpSet[]}} WireZone
 * @typedef {{name: string, value: number, kernel: number, is_kernel: boolean,
 *            modelled: boolean}} Constant
 * @typedef {{kernel: string, hinting: string, pcp: boolean, cpus?: number, what_if?: string | null,
 *            seed: number, max_order: number,
 *            pageblock_order: number, migratetypes: string[], scenario: string,
 *            constants: Constant[], pages?: number | null}} Config
 * @typedef {{resident_pages: number, discarded_pages: number, refaults: number,
 *            report_calls: number, pages_reported: number}} HostStats
 * @typedef {{strategy: string, next_run: number | null, pending: string[],
 *            batch?: Array<[number, number]>, constants?: Constant[],
 *            [key: string]: any}} HintingState
 * @typedef {{step: number, kind: string}} Mark
 * @typedef {{type: 'hello', protocol_version: number, session: string,
 *            role: 'controller' | 'follower', token?: string | null, server?: string,
 *            limits: Record<string, number>, schema_hash?: string}} Hello
 * @typedef {{type: 'snapshot', seq: number, session: string, step: number,
 *            timeline_length: number, playing: boolean, speed: number, clock: number,
 *            config: Config, zones: WireZone[], hinting: HintingState, host: HostStats,
 *            breakpoints: string[], marks?: Mark[], marks_truncated?: boolean, reason?: string,
 *            chapters?: Array<{step: number, title: string, notes?: string | null}>, setup?: {steps: number, text: string} | null,
 *            events?: ModelEvent[], events_dropped?: number, op?: number,
 *            following?: boolean, branch?: number,
 *            branches?: Array<{id: number, parent: number | null, fork_step: number,
 *                              length: number, reason: string}>,
 *            quiz?: unknown}} Snapshot
 * @typedef {{name: string, nr_free: number[], nr_free_pages: number, lists: WireList[],
 *            page_ranges: Array<[number, string]>, host_ranges: Array<[number, string]>,
 *            pageblock_ranges?: Array<[number, string]>,
 *            pcp?: import('./pcp.js').PcpSet[] | null}} ZoneDelta
 * @typedef {{kind: string, fn: string, zone: string, message: string,
 *            [key: string]: any}} ModelEvent
 * @typedef {{type: 'delta', seq: number, step: number, timeline_length: number,
 *            clock: number, op?: number, events: ModelEvent[], playing: boolean, speed: number,
 *            zones: ZoneDelta[], hinting: HintingState, host: HostStats,
 *            events_dropped?: number, following?: boolean, branch?: number,
 *            quiz?: unknown, breakpoints?: string[] | null, marks?: Mark[] | null,
 *            marks_truncated?: boolean | null, mark?: Mark | null}} Delta
 * @typedef {{type: 'ack', id: number | null, seq?: number | null}} Ack
 * @typedef {{type: 'error', id?: number | null, code: string, message: string}} ErrorMessage
 * @typedef {{type: 'other', kind: string, message: Record<string, unknown>}} OtherMessage
 * @typedef {Hello | Snapshot | Delta | Ack | ErrorMessage | OtherMessage} ServerMessage
 */

// --- small checkers ------------------------------------------------------------------

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is number}
 */
function expectCount(value, what) {
  if (!Number.isInteger(value) || /** @type {number} */ (value) < 0) {
    throw new ProtocolError(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is number}
 */
function expectNumber(value, what) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ProtocolError(`${what} must be a number, got ${JSON.stringify(value)}`);
  }
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {number[]}
 */
function expectCounts(value, what) {
  if (!Array.isArray(value)) throw new ProtocolError(`${what} must be an array`);
  value.forEach((v, i) => expectCount(v, `${what}[${i}]`));
  return value;
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is object}
 */
function expectObject(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError(`${what} must be an object`);
  }
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is string}
 */
function expectString(value, what) {
  if (typeof value !== 'string') throw new ProtocolError(`${what} must be a string`);
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is any[]}
 */
function expectArray(value, what) {
  if (!Array.isArray(value)) throw new ProtocolError(`${what} must be an array`);
}

/**
 * One free list as sent (snapshot or delta).
 * @param {any} list
 * @param {number} maxOrder
 * @param {string} where
 * @returns {WireList}
 */
export function checkList(list, maxOrder, where) {
  expectObject(list, where);
  expectCount(list.order, `${where}.order`);
  if (list.order >= maxOrder) throw new ProtocolError(`${where}: order ${list.order} ≥ max_order ${maxOrder}`);
  expectString(list.migratetype, `${where}.migratetype`);
  const what = `${where} (order ${list.order} ${list.migratetype})`;
  expectCount(list.length, `${what}.length`);
  expectCounts(list.head, `${what}.head`);
  expectCounts(list.tail, `${what}.tail`);
  expectArray(list.head_flagged, `${what}.head_flagged`);
  expectArray(list.tail_flagged, `${what}.tail_flagged`);
  if (list.head.length + list.tail.length > list.length) {
    throw new ProtocolError(`${what}: more pfns than its length`);
  }
  if (list.head_flagged.length !== list.head.length || list.tail_flagged.length !== list.tail.length) {
    throw new ProtocolError(`${what}: one flag per pfn expected`);
  }
  if (list.tail.length > 0 && list.head.length + list.tail.length === list.length) {
    throw new ProtocolError(`${what}: a complete list must be sent in head alone`);
  }
  if (list.flagged !== undefined) {
    expectCount(list.flagged, `${what}.flagged`);
    if (list.flagged > list.length) throw new ProtocolError(`${what}: more flagged blocks than its length`);
  }
  if (list.boundary !== undefined && list.boundary !== null) checkBoundary(list.boundary, list, `${what}.boundary`);
  return list;
}

/**
 * A list's v2 boundary: inside the list, with a neighbour on each side it has.
 * @param {any} b
 * @param {WireList} list
 * @param {string} what
 */
function checkBoundary(b, list, what) {
  expectObject(b, what);
  expectCount(b.index, `${what}.index`);
  expectCount(b.flagged_before, `${what}.flagged_before`);
  if (b.index > list.length) throw new ProtocolError(`${what}: index ${b.index} beyond the list's ${list.length} entries`);
  for (const side of ['before', 'after']) {
    const absent = side === 'before' ? b.index === 0 : b.index === list.length;
    if (absent ? b[side] !== null : !Number.isInteger(b[side]) || b[side] < 0) {
      throw new ProtocolError(`${what}.${side} does not fit index ${b.index} of ${list.length}`);
    }
    if ((b[side] === null) !== (b[`${side}_flagged`] === null)) throw new ProtocolError(`${what}.${side}_flagged must go with ${side}`);
  }
  if (b.flagged_before > b.index || b.flagged_before > (list.flagged ?? Infinity)) {
    throw new ProtocolError(`${what}: more hinted blocks in front than the list holds there`);
  }
}

/** @param {any} ranges @param {string} what */
function checkRanges(ranges, what) {
  if (ranges === undefined) return;
  expectArray(ranges, what);
  ranges.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== 2) throw new ProtocolError(`${what}[${i}] must be [start, base64]`);
    expectCount(r[0], `${what}[${i}][0]`);
    expectString(r[1], `${what}[${i}][1]`);
  });
}

/** @param {any} host @param {string} what */
function checkHost(host, what) {
  expectObject(host, what);
  for (const k of ['resident_pages', 'discarded_pages', 'refaults', 'report_calls', 'pages_reported']) {
    expectCount(host[k], `${what}.${k}`);
  }
}

/** @param {any} hinting @param {string} what */
function checkHinting(hinting, what) {
  expectObject(hinting, what);
  expectString(hinting.strategy, `${what}.strategy`);
  if (hinting.batch !== undefined) {
    expectArray(hinting.batch, `${what}.batch`);
    hinting.batch.forEach((/** @type {any} */ b, /** @type {number} */ i) => {
      if (!Array.isArray(b) || b.length !== 2) throw new ProtocolError(`${what}.batch[${i}] must be [pfn, order]`);
      expectCount(b[0], `${what}.batch[${i}][0]`);
      expectCount(b[1], `${what}.batch[${i}][1]`);
    });
  }
}

/**
 * @param {any} msg
 * @returns {Snapshot}
 */
function checkSnapshot(msg) {
  expectCount(msg.seq, 'snapshot.seq');
  expectCount(msg.step, 'snapshot.step');
  expectCount(msg.timeline_length, 'snapshot.timeline_length');
  expectNumber(msg.clock, 'snapshot.clock');
  expectObject(msg.config, 'snapshot.config');
  const config = msg.config;
  expectCount(config.max_order, 'snapshot.config.max_order');
  if (config.max_order < 1) throw new ProtocolError('snapshot.config.max_order must be ≥ 1');
  expectCount(config.pageblock_order, 'snapshot.config.pageblock_order');
  expectArray(config.migratetypes, 'snapshot.config.migratetypes');
  expectArray(msg.zones, 'snapshot.zones');
  checkHinting(msg.hinting, 'snapshot.hinting');
  checkHost(msg.host, 'snapshot.host');
  for (const zone of msg.zones) {
    if (typeof zone?.name !== 'string') throw new ProtocolError('a zone without a name');
    const where = `zone ${zone.name}`;
    expectCount(zone.start_pfn, `${where}.start_pfn`);
    expectCount(zone.spanned_pages, `${where}.spanned_pages`);
    const nrFree = expectCounts(zone.nr_free, `${where}.nr_free`);
    if (nrFree.length !== config.max_order) {
      throw new ProtocolError(`${where}: nr_free has ${nrFree.length} orders, expected ${config.max_order}`);
    }
    expectCount(zone.nr_free_pages, `${where}.nr_free_pages`);
    expectArray(zone.lists, `${where}.lists`);
    zone.lists.forEach((/** @type {any} */ l, /** @type {number} */ i) => checkList(l, config.max_order, `${where}.lists[${i}]`));
    for (const k of ['pageblock_mt', 'page_state', 'host_backing']) expectString(zone[k], `${where}.${k}`);
  }
  return msg;
}

/**
 * @param {any} msg
 * @returns {Delta}
 */
function checkDelta(msg) {
  expectCount(msg.seq, 'delta.seq');
  expectCount(msg.step, 'delta.step');
  expectCount(msg.timeline_length, 'delta.timeline_length');
  expectNumber(msg.clock, 'delta.clock');
  expectArray(msg.events, 'delta.events');
  expectArray(msg.zones, 'delta.zones');
  checkHinting(msg.hinting, 'delta.hinting');
  checkHost(msg.host, 'delta.host');
  for (const zone of msg.zones) {
    if (typeof zone?.name !== 'string') throw new ProtocolError('a zone delta without a name');
    const where = `delta zone ${zone.name}`;
    expectCounts(zone.nr_free, `${where}.nr_free`);
    expectCount(zone.nr_free_pages, `${where}.nr_free_pages`);
    expectArray(zone.lists, `${where}.lists`);
    zone.lists.forEach((/** @type {any} */ l, /** @type {number} */ i) => checkList(l, Infinity, `${where}.lists[${i}]`));
    checkRanges(zone.page_ranges, `${where}.page_ranges`);
    checkRanges(zone.host_ranges, `${where}.host_ranges`);
    checkRanges(zone.pageblock_ranges, `${where}.pageblock_ranges`);
  }
  for (const [i, e] of msg.events.entries()) {
    expectObject(e, `delta.events[${i}]`);
    expectString(e.kind, `delta.events[${i}].kind`);
  }
  if (msg.breakpoints !== undefined && msg.breakpoints !== null) {
    expectArray(msg.breakpoints, 'delta.breakpoints');
    msg.breakpoints.forEach((/** @type {unknown} */ k, /** @type {number} */ i) => expectString(k, `delta.breakpoints[${i}]`));
  }
  if (msg.marks !== undefined && msg.marks !== null) {
    expectArray(msg.marks, 'delta.marks');
    msg.marks.forEach((/** @type {any} */ m, /** @type {number} */ i) => {
      expectObject(m, `delta.marks[${i}]`);
      expectCount(m.step, `delta.marks[${i}].step`);
      expectString(m.kind, `delta.marks[${i}].kind`);
    });
  }
  if (msg.mark !== undefined && msg.mark !== null) {
    expectObject(msg.mark, 'delta.mark');
    expectCount(msg.mark.step, 'delta.mark.step');
    expectString(msg.mark.kind, 'delta.mark.kind');
  }
  return msg;
}

/**
 * Parse and check one server message.
 * @param {string} text JSON text of a websocket frame
 * @returns {ServerMessage}
 * @throws {ProtocolError}
 */
export function decodeMessage(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError(`not JSON: ${String(e)}`);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new ProtocolError('a message must be a JSON object');
  }
  if (typeof msg.type !== 'string' || msg.type === '') {
    throw new ProtocolError('a message without a type');
  }
  if (!SERVER_TYPES.has(msg.type)) return { type: 'other', kind: msg.type, message: msg };
  switch (msg.type) {
    case 'hello':
      if (msg.protocol_version !== PROTOCOL_VERSION) {
        throw new ProtocolError(
          `server speaks protocol version ${msg.protocol_version}, this page speaks ` +
            `${PROTOCOL_VERSION}: reload the page`,
        );
      }
      return msg;
    case 'snapshot':
      return checkSnapshot(msg);
    case 'delta':
      return checkDelta(msg);
    case 'error':
      expectString(msg.code, 'error.code');
      expectString(msg.message, 'error.message');
      return msg;
    default:
      return msg;
  }
}

/**
 * Encode a command for the server.  The id (when given) is echoed in the server's
 * `ack` or `error`.
 * @param {string} type
 * @param {number | null} id
 * @param {Record<string, unknown>} [fields]
 * @returns {string}
 */
export function encodeCommand(type, id, fields = {}) {
  if (!CLIENT_TYPES.includes(type)) throw new RangeError(`unknown command type ${JSON.stringify(type)}`);
  if (id !== null && (!Number.isInteger(id) || id < 0)) throw new RangeError(`bad command id ${id}`);
  const out = { ...fields, type };
  if (id !== null) out.id = id;
  return JSON.stringify(out);
}

// --- base64 ---------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < B64.length; i += 1) t[B64.charCodeAt(i)] = i;
  return t;
})();

/**
 * Decode standard base64 (with or without padding) to bytes.  A hand-written loop:
 * `atob` builds a binary string first, which is slower for the megabyte-sized page
 * arrays of a 4 GiB zone.  Throws ProtocolError on anything that is not base64.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function base64ToBytes(text) {
  // @ts-ignore: Uint8Array.fromBase64 is new (Chrome 140+, not in Node 20)
  if (typeof Uint8Array.fromBase64 === 'function') {
    try {
      // @ts-ignore
      return Uint8Array.fromBase64(text);
    } catch (e) {
      throw new ProtocolError(`bad base64: ${String(e)}`);
    }
  }
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61 /* = */) len -= 1;
  if (text.length % 4 !== 0 || text.length - len > 2) {
    throw new ProtocolError(`bad base64: length ${text.length}`);
  }
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let i = 0;
  const L = B64_LOOKUP;
  const full = len - (len % 4);
  for (; i < full; i += 4) {
    const a = L[text.charCodeAt(i)];
    const b = L[text.charCodeAt(i + 1)];
    const c = L[text.charCodeAt(i + 2)];
    const d = L[text.charCodeAt(i + 3)];
    if ((a | b | c | d) < 0) throw new ProtocolError(`bad base64 at ${i}`);
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = len - full;
  if (rest === 1) throw new ProtocolError('bad base64: dangling character');
  if (rest >= 2) {
    const a = L[text.charCodeAt(i)];
    const b = L[text.charCodeAt(i + 1)];
    const c = rest === 3 ? L[text.charCodeAt(i + 2)] : 0;
    if ((a | b | c) < 0) throw new ProtocolError(`bad base64 at ${i}`);
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >> 16;
    if (rest === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
}

/**
 * Encode bytes as standard base64 with padding (for tests and fixtures).
 * @param {Uint8Array | number[]} bytes
 */
export function bytesToBase64(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    out += `${B64[n >> 18]}${B64[(n >> 12) & 63]}==`;
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += `${B64[n >> 18]}${B64[(n >> 12) & 63]}${B64[(n >> 6) & 63]}=`;
  }
  return out;
}
