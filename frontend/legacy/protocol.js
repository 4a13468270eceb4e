// @ts-check
/* The first slice's decoder, kept while the server still speaks the first-slice snapshot; removed when the session protocol lands. */
/**
 * Decoding of server messages (wire protocol version 1, see backend/protocol.py).
 *
 * Pure logic, no DOM: tested under `node --test tests/js`.  The page refuses to draw
 * a protocol version it does not speak instead of drawing something wrong.
 */

export const PROTOCOL_VERSION = 1;

const SERVER_TYPES = new Set(['hello', 'snapshot', 'ack', 'error']);

export class ProtocolError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * @typedef {{count: number, head: number[], tail: number[]}} FreeListSlice
 * @typedef {{name: string, start_pfn: number, spanned_pages: number, nr_free: number[],
 *            free_pages: number, free_lists: Record<string, FreeListSlice[]>}} ZoneState
 * @typedef {{type: 'hello', protocol_version: number, server: string,
 *            limits: {list_ends: number}}} Hello
 * @typedef {{type: 'snapshot', seq: number, scenario: string, step: number,
 *            max_order: number, pageblock_order: number, migratetypes: string[],
 *            zones: ZoneState[]}} Snapshot
 * @typedef {{type: 'ack', id: number}} Ack
 * @typedef {{type: 'error', id: number | null, code: string, message: string}} ErrorMessage
 * @typedef {Hello | Snapshot | Ack | ErrorMessage} ServerMessage
 */

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
 * @returns {number[]}
 */
function expectCounts(value, what) {
  if (!Array.isArray(value)) throw new ProtocolError(`${what} must be an array`);
  value.forEach((v, i) => expectCount(v, `${what}[${i}]`));
  return value;
}

/**
 * @param {any} list
 * @param {string} what
 * @returns {FreeListSlice}
 */
function checkSlice(list, what) {
  if (list === null || typeof list !== 'object') throw new ProtocolError(`${what} is not an object`);
  expectCount(list.count, `${what}.count`);
  expectCounts(list.head, `${what}.head`);
  expectCounts(list.tail, `${what}.tail`);
  if (list.head.length + list.tail.length > list.count) {
    throw new ProtocolError(`${what}: more pfns than count`);
  }
  return list;
}

/**
 * @param {any} msg
 * @returns {Snapshot}
 */
function checkSnapshot(msg) {
  expectCount(msg.seq, 'snapshot.seq');
  expectCount(msg.max_order, 'snapshot.max_order');
  if (!Array.isArray(msg.migratetypes)) throw new ProtocolError('snapshot.migratetypes must be an array');
  if (!Array.isArray(msg.zones)) throw new ProtocolError('snapshot.zones must be an array');
  for (const zone of msg.zones) {
    const where = `zone ${zone && zone.name}`;
    if (typeof zone?.name !== 'string') throw new ProtocolError('zone without a name');
    const nrFree = expectCounts(zone.nr_free, `${where} nr_free`);
    if (nrFree.length !== msg.max_order) {
      throw new ProtocolError(`${where}: nr_free has ${nrFree.length} orders, expected ${msg.max_order}`);
    }
    for (const [mt, lists] of Object.entries(zone.free_lists ?? {})) {
      if (!Array.isArray(lists) || lists.length !== msg.max_order) {
        throw new ProtocolError(`${where} ${mt}: expected ${msg.max_order} free lists`);
      }
      lists.forEach((l, order) => checkSlice(l, `${where} ${mt} order ${order}`));
    }
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
  if (!SERVER_TYPES.has(msg.type)) {
    throw new ProtocolError(`unknown message type ${JSON.stringify(msg.type)}`);
  }
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
    default:
      return msg;
  }
}

/**
 * Encode a command for the server.  Every command carries an id that the server
 * echoes in its `ack` or `error`.
 * @param {string} type
 * @param {number} id
 * @param {Record<string, unknown>} [fields]
 * @returns {string}
 */
export function encodeCommand(type, id, fields = {}) {
  if (!Number.isInteger(id) || id < 0) throw new RangeError(`bad command id ${id}`);
  return JSON.stringify({ ...fields, type, id });
}
