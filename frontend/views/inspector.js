// @ts-check
/**
 * The inspector: everything about one page frame.  What the page already holds
 * (frame state, host backing, pageblock, the free block and its list position when the
 * block is among the list ends sent) is shown at once; the model's own view of the
 * page (its block and the block's place in its list, flags and page_type bits of the
 * block's head under the current strategy, what a kdump-style tool concludes) comes
 * from `GET /api/sessions/{id}/page/{pfn}` (node.page(pfn)) when the server offers it.
 *
 * PageQuery asks that endpoint for the inspector and for the hover (debounced, cached
 * per step).
 */
import { buddyOf } from '../lib/memmap.js';
import { answeredBlock, knownFreeBlock, listPosition } from '../lib/freeblock.js';
import { blockSize, formatPfn } from '../lib/layout.js';
import { parsePfn, PFN_PATTERN } from '../lib/pfntext.js';
import { HOST_STATE_NAMES, PAGE_STATE_NAMES } from '../lib/protocol.js';
import { h, replaceKids, withPfns } from './dom.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 * @typedef {import('../lib/freeblock.js').KnownBlock} KnownBlock
 */

/** @type {Promise<boolean> | null} */
let endpointCheck = null;

/**
 * Whether the server offers the per-page endpoint, from its OpenAPI document (so the
 * page never requests a path that is not there: a 404 shows up as a console error).
 * Asked once per page.
 */
export function hasPageEndpoint() {
  endpointCheck ??= fetch('/openapi.json', { headers: { accept: 'application/json' } })
    .then((res) => (res.ok ? res.json() : { paths: {} }))
    .then((doc) => Object.keys(doc.paths ?? {}).some((p) => /^\/api\/sessions\/\{[^}]+\}\/page\/\{[^}]+\}$/.test(p)))
    .catch(() => false);
  return endpointCheck;
}

/**
 * The model's answers about page frames (`node.page`), for the step on screen.  An
 * answer covers every frame of its block, so moving over one block asks once; a new
 * step forgets them.  `later` waits until the pointer rests on a frame and drops what
 * it was waiting for when the pointer moves on.
 */
export class PageQuery {
  /**
   * @param {() => ClientState | null} current the state on screen now
   * @param {number} [restMs] how long the pointer rests before the server is asked
   */
  constructor(current, restMs = 120) {
    this.current = current;
    this.restMs = restMs;
    /** The step the answers are about (session/seq). */
    this.step = '';
    /** @type {any[]} */
    this.answers = [];
    /** @type {{step: string, pfn: number} | null} */
    this.wanted = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
  }

  /** @param {ClientState} state */
  static stepOf(state) {
    return `${state.session}/${state.seq}`;
  }

  /**
   * The answer covering `pfn` at the step on screen, if the model was asked: about the
   * frame itself (`exact`), or about any frame of its block (the block's facts).
   * @param {ClientState} state
   * @param {number} pfn
   * @param {boolean} [exact]
   */
  cached(state, pfn, exact = false) {
    if (this.step !== PageQuery.stepOf(state)) return null;
    const covers = (/** @type {any} */ a) => (exact ? a.pfn === pfn : pfn >= a.block_pfn && pfn < a.block_pfn + 2 ** a.block_order);
    return this.answers.find(covers) ?? null;
  }

  /**
   * Ask the model now: its answer, `{error}` or null (no endpoint).
   * @param {ClientState} state
   * @param {number} pfn
   * @returns {Promise<any>}
   */
  async get(state, pfn) {
    const hit = this.cached(state, pfn, true);
    if (hit) return hit;
    if (!(await hasPageEndpoint())) return null;
    const step = PageQuery.stepOf(state);
    try {
      const res = await fetch(`/api/sessions/${encodeURIComponent(state.session)}/page/${pfn}`, { headers: { accept: 'application/json' } });
      if (!res.ok) return { error: `${res.status} ${await res.text()}`.slice(0, 300) };
      const data = await res.json();
      const now = this.current();
      // Kept only while the step it describes is on screen.
      if (now && PageQuery.stepOf(now) === step) {
        if (this.step !== step) {
          this.step = step;
          this.answers = [];
        }
        this.answers.push(data);
        if (this.answers.length > 500) this.answers.shift();
      }
      return data;
    } catch (e) {
      return { error: String(e) };
    }
  }

  /**
   * Ask about `pfn` once the pointer has rested on it; `onAnswer` runs when the answer
   * arrives, unless the pointer moved on (`cancel`, or another `later`) meanwhile.
   * @param {number} pfn
   * @param {(data: any) => void} onAnswer
   */
  later(pfn, onAnswer) {
    const state = this.current();
    if (!state) return;
    const step = PageQuery.stepOf(state);
    if (this.wanted && this.wanted.step === step && this.wanted.pfn === pfn) return;
    this.cancel();
    const wanted = { step, pfn };
    this.wanted = wanted;
    this.timer = setTimeout(async () => {
      this.timer = null;
      const now = this.current();
      if (!now || this.wanted !== wanted || PageQuery.stepOf(now) !== step) return;
      const data = await this.get(now, pfn);
      if (this.wanted !== wanted) return;
      this.wanted = null;
      if (data && !data.error) onAnswer(data);
    }, this.restMs);
  }

  /** The pointer moved on: drop what `later` waits for. */
  cancel() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wanted = null;
  }
}

/**
 * @param {Array<[string, Node | string | null]>} rows
 */
function facts(rows) {
  return h(
    'dl',
    { class: 'facts' },
    rows.flatMap(([k, v]) => (v === null ? [] : [h('dt', {}, [k]), h('dd', {}, typeof v === 'string' ? withPfns(v) : [v])])),
  );
}

/**
 * The pfn typed into the free/touch form (its pattern admits hex or decimal only).
 * @param {HTMLFormElement} form
 */
function typedPfn(form) {
  return parsePfn(/** @type {HTMLInputElement} */ (form.elements.namedItem('pfn')).value) ?? NaN;
}

export class Inspector {
  /**
   * @param {HTMLElement} root
   * @param {{onFree: (pfn: number, order: number) => void, onTouch: (pfn: number, order: number) => void,
   *          onClose: () => void,
   *          onHighlight: (zone: string, pfn: number, order: number, placed?: KnownBlock & {at: string}) => void}} handlers
   *   `onHighlight`: the block the inspector is on; `placed` when the model placed it in
   *   the unsent middle of its list (so the lists can draw it there).
   */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    /** @type {{zone: string, pfn: number} | null} */
    this.target = null;
    /** @type {ClientState | null} */
    this.state = null;
    this.query = new PageQuery(() => this.state);
    this.requestSeq = 0;
    this.highlighted = '';
  }

  get open() {
    return !this.root.hidden && this.target !== null;
  }

  close() {
    this.root.hidden = true;
    this.target = null;
    this.highlighted = '';
    this.root.classList.remove('dock-left');
    this.handlers.onClose();
  }

  /**
   * After the inspector drew (its height changes with the model's answer) and the
   * lists drew the chip of the block it is on (the next frame): keep clear of the chip.  Docked beside the right-hand column the inspector covers
   * the middle of the lists at 1280 px, where a named block's chip often is
   * (hildenbrand's pfn 0x4000); then it docks on the lists' left instead, if the chip
   * is clear there.
   */
  dodgeSoon() {
    const key = this.highlighted;
    requestAnimationFrame(() => {
      if (!this.open || this.highlighted !== key) return;
      const chip = document.querySelector(`#freelists .chip[data-key="${CSS.escape(key)}"]`);
      const covers = () => {
        if (!chip) return false;
        const a = chip.getBoundingClientRect();
        const b = this.root.getBoundingClientRect();
        return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      };
      this.root.classList.remove('dock-left');
      if (!covers()) return;
      this.root.classList.add('dock-left');
      if (covers()) this.root.classList.remove('dock-left');
    });
  }

  /**
   * @param {ClientState} state
   * @param {string} zone
   * @param {number} pfn
   * @param {Map<string, Map<number, number>>} allocations blocks seen allocated (pfn -> order) per zone
   */
  show(state, zone, pfn, allocations) {
    this.target = { zone, pfn };
    this.root.hidden = false;
    this.render(state, allocations);
    this.fetchDetail(state);
  }

  /**
   * Redraw for a new state (the step moved while the inspector is open).
   * @param {ClientState} state
   * @param {Map<string, Map<number, number>>} allocations
   */
  refresh(state, allocations) {
    if (!this.open) return;
    this.render(state, allocations);
    this.fetchDetail(state);
  }

  /** @param {ClientState} state */
  async fetchDetail(state) {
    if (!this.target) return;
    this.state = state;
    const seq = ++this.requestSeq;
    const data = await this.query.get(state, this.target.pfn);
    if (seq === this.requestSeq) this.renderDetail(data);
  }

  /** @param {any} data */
  renderDetail(data) {
    const box = this.root.querySelector('.insp-model');
    if (!box) return;
    if (data === null) {
      box.replaceChildren(h('p', { class: 'muted' }, ['The server does not offer per-page detail (node.page) yet; the facts above come from the page state the server sent.']));
      return;
    }
    if (data.error) {
      box.replaceChildren(h('p', { class: 'muted' }, [`No detail from the model: ${data.error}`]));
      return;
    }
    const list = (/** @type {string[] | undefined} */ xs) => (xs && xs.length ? xs.join(', ') : 'none');
    box.replaceChildren(
      h('h4', {}, ['the model’s page (node.page)']),
      facts([
        ['block', `order-${data.block_order} at pfn ${formatPfn(data.block_pfn)}`],
        // node.page() names the flagged state 'hinted' under both strategies.
        ['state', data.reported && data.state === 'hinted' ? 'reported' : String(data.state)],
        ['on list', data.list_migratetype ? `${data.list_migratetype} order ${data.block_order}${listPosition(data)}` : '—'],
        ['head flags', h('code', {}, [list(data.head_flags)])],
        ['page_type', h('code', {}, [`${list(data.head_page_type)} (0x${Number(data.head_page_type_value ?? 0).toString(16)})`])],
        ['host', String(data.host)],
      ]),
      h('p', { class: 'kdump' }, [h('b', {}, ['kdump view: ']), ...withPfns(String(data.kdump_view ?? '—'))]),
    );
    if (data.allocated && typeof data.block_pfn === 'number') this.setFreeTarget(data.block_pfn, data.block_order);
    // A free block the lists only count (the middle of a long list): the model's place
    // for it lets the lists draw its chip.
    const placed = answeredBlock(data);
    const key = placed && this.target ? `${this.target.zone}:${placed.pfn}:${placed.order}` : '';
    if (placed && this.target && this.state && key !== this.highlighted) {
      this.highlighted = key;
      this.handlers.onHighlight(this.target.zone, placed.pfn, placed.order, { ...placed, at: PageQuery.stepOf(this.state) });
    }
    // Taller now, with the model's answer: keep clear of the chip again.
    if (this.highlighted) this.dodgeSoon();
  }

  /** @param {number} pfn @param {number} order */
  setFreeTarget(pfn, order) {
    const form = /** @type {HTMLFormElement | null} */ (this.root.querySelector('form.insp-free'));
    if (!form) return;
    /** @type {HTMLInputElement} */ (form.elements.namedItem('pfn')).value = formatPfn(pfn);
    /** @type {HTMLInputElement} */ (form.elements.namedItem('order')).value = String(order);
  }

  /**
   * @param {ClientState} state
   * @param {Map<string, Map<number, number>>} allocations
   */
  render(state, allocations) {
    if (!this.target) return;
    const { zone: zoneName, pfn } = this.target;
    const zone = state.zoneByName.get(zoneName);
    if (!zone || pfn < zone.startPfn || pfn >= zone.startPfn + zone.spannedPages) {
      this.root.replaceChildren(h('p', {}, withPfns(`pfn ${formatPfn(pfn)} is not in this session any more.`)));
      return;
    }
    const i = pfn - zone.startPfn;
    const ps = zone.pageState[i];
    const hb = zone.hostBacking[i];
    const pbo = state.config.pageblock_order;
    const pbIndex = Math.floor(pfn / 2 ** pbo) - Math.floor(zone.startPfn / 2 ** pbo);
    const pbMt = state.config.migratetypes[zone.pageblockMt[pbIndex]] ?? '?';
    const block = ps === 1 || ps === 3 || ps === 4 ? null : knownFreeBlock(zone, pfn, state.config.max_order);
    const flag = state.hinting.strategy === 'reporting' ? 'reported' : 'hinted';
    const inBatch = (state.hinting.batch ?? []).map(([p, o], slot) => ({ p, o, slot })).find(({ p, o }) => pfn >= p && pfn < p + 2 ** o);
    let allocated = null;
    if (ps === 1) {
      const seen = allocations.get(zoneName);
      if (seen) {
        for (const [p, o] of seen) if (pfn >= p && pfn < p + 2 ** o) allocated = { pfn: p, order: o };
      }
    }
    /** @type {Array<[string, Node | string | null]>} */
    const rows = [
      ['zone', zoneName],
      ['frame', PAGE_STATE_NAMES[ps] === 'hinted' ? flag : (PAGE_STATE_NAMES[ps] ?? String(ps))],
      ['host', HOST_STATE_NAMES[hb] ?? String(hb)],
      ['pageblock', `#${pbIndex} · ${pbMt}`],
    ];
    if (block) {
      const buddy = buddyOf(block.pfn, block.order);
      const bi = buddy - zone.startPfn;
      const buddyState = bi >= 0 && bi < zone.spannedPages ? PAGE_STATE_NAMES[zone.pageState[bi]] : 'outside the zone';
      rows.push(
        ['free block', `order ${block.order} (${blockSize(block.order)}) at ${formatPfn(block.pfn)}`],
        ['list', `${block.migratetype} order ${block.order}: #${block.position + 1} of ${block.length} from the head`],
        [flag, block.flagged ? 'yes' : 'no'],
        ['buddy', `${formatPfn(buddy)} = ${formatPfn(block.pfn)} ^ ${formatPfn(2 ** block.order)} · first frame ${buddyState}`],
      );
    } else if (ps === 0 || ps === 2) {
      rows.push(['free block', 'in the middle of a long list (not among the ends sent): its place is under “the model’s page” below']);
    }
    if (inBatch) rows.push(['with the host', `batch slot ${inBatch.slot}: order-${inBatch.o} block at ${formatPfn(inBatch.p)}`]);
    if (allocated) rows.push(['allocated block', `order ${allocated.order} at ${formatPfn(allocated.pfn)} (seen allocated in this view)`]);

    const freeForm = h('form', { class: 'insp-free', 'aria-label': 'free or touch an allocated block' }, [
      h('label', {}, [
        'pfn ',
        h('input', { name: 'pfn', type: 'text', size: 10, pattern: PFN_PATTERN, title: 'a pfn: hex (0x16000) or decimal', value: formatPfn(allocated?.pfn ?? pfn), required: true, spellcheck: 'false', autocomplete: 'off' }),
      ]),
      h('label', {}, ['order ', h('input', { name: 'order', type: 'number', min: 0, max: state.config.max_order - 1, value: allocated?.order ?? 0, required: true })]),
      h('button', { type: 'submit', name: 'free', 'data-action': 'free' }, ['free']),
      h('button', { type: 'button', name: 'touch', 'data-action': 'touch' }, ['touch']),
    ]);
    freeForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const f = /** @type {HTMLFormElement} */ (freeForm);
      this.handlers.onFree(typedPfn(f), Number(/** @type {HTMLInputElement} */ (f.elements.namedItem('order')).value));
    });
    /** @type {HTMLElement} */ (freeForm.querySelector('[data-action="touch"]')).addEventListener('click', () => {
      const f = /** @type {HTMLFormElement} */ (freeForm);
      if (!f.reportValidity()) return;
      this.handlers.onTouch(typedPfn(f), Number(/** @type {HTMLInputElement} */ (f.elements.namedItem('order')).value));
    });

    this.root.dataset.pfn = String(pfn);
    this.root.dataset.zone = zoneName;
    this.root.dataset.state = PAGE_STATE_NAMES[ps] ?? String(ps);
    replaceKids(this.root, [
      h('header', { class: 'insp-head' }, [
        h('h3', {}, withPfns(`pfn ${formatPfn(pfn)}`)),
        h('button', { type: 'button', class: 'close', 'aria-label': 'close the inspector', onclick: () => this.close() }, ['×']),
      ]),
      facts(rows),
      ps === 1 ? freeForm : null,
      h('div', { class: 'insp-model' }, [h('p', { class: 'muted' }, ['asking the model…'])]),
    ]);
    const key = block ? `${zoneName}:${block.pfn}:${block.order}` : '';
    if (block && key !== this.highlighted) this.handlers.onHighlight(zoneName, block.pfn, block.order);
    this.highlighted = key;
    if (key) this.dodgeSoon();
  }
}
