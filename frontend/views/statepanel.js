// @ts-check
/**
 * The state panel: the strategy's state (v2 zone flags or the reporting state
 * machine), the next scheduled run on the virtual clock, the constants with their
 * kernel values, free pages against the watermarks with the unusable free space index
 * per order, what the host holds, and the selected zone's page frames by state.
 */
import { unusableIndex, unusableTable } from '../lib/fragmentation.js';
import { formatBytes, formatCount, PAGE_SIZE } from '../lib/layout.js';
import { h, redraw } from './dom.js';
import { unusableTableElement } from './fragtable.js';

/**
 * @typedef {import('../lib/state.js').ClientState} ClientState
 */

const STRATEGY_TITLES = /** @type {Record<string, string>} */ ({
  none: 'no hinting: the host keeps every page it ever backed',
  'hinting-v2': 'v2 hinted pages (Duyck, July 2019): boundaries and hinted_pages[]',
  reporting: 'free page reporting (merged in 5.7): PG_reported and list rotation',
});

/** @param {number | null | undefined} seconds */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds === 0) return '0 s';
  if (Math.abs(seconds) < 1) return `${(seconds * 1000).toFixed(seconds * 1000 < 10 ? 1 : 0)} ms`;
  return `${seconds.toFixed(3).replace(/\.?0+$/, '')} s`;
}

/**
 * @param {string} current
 * @param {string[]} states
 * @param {string} what
 */
function machine(current, states, what) {
  return h(
    'ol',
    { class: 'machine', 'aria-label': `${what}: ${current}` },
    states.map((s, i) =>
      h('li', { class: s === current ? 'on' : '', 'data-state': s, 'aria-current': s === current ? 'step' : null }, [
        s,
        i < states.length - 1 ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, ['→']) : null,
      ]),
    ),
  );
}

/** @param {ClientState} state */
function strategyBlock(state) {
  const hs = state.hinting;
  const rows = [];
  rows.push(h('p', { class: 'strategy-title' }, [STRATEGY_TITLES[hs.strategy] ?? hs.strategy]));
  if (hs.strategy === 'reporting') {
    rows.push(machine(String(hs.state ?? 'IDLE'), ['IDLE', 'REQUESTED', 'ACTIVE'], 'page reporting state'));
    rows.push(machine(String(hs.phase ?? 'idle'), ['idle', 'fill', 'report', 'drain'], 'phase'));
    rows.push(
      h('dl', { class: 'facts' }, [
        h('dt', {}, ['passes']), h('dd', {}, [String(hs.passes ?? 0)]),
        h('dt', {}, ['page_reporting_order']), h('dd', {}, [String(hs.order ?? '—')]),
        h('dt', {}, ['working on']),
        h('dd', {}, [hs.zone ? `${hs.zone} · order ${hs.list_order ?? '—'} ${hs.list_migratetype ?? ''}` : '—']),
        h('dt', {}, ['budget left']), h('dd', {}, [hs.budget_left === null || hs.budget_left === undefined ? '—' : String(hs.budget_left)]),
      ]),
    );
  } else if (hs.strategy === 'hinting-v2') {
    const zones = hs.zones ?? {};
    const minOrder = hs.min_order ?? 0;
    const names = Object.keys(zones);
    const maxLen = Math.max(0, ...names.map((n) => (zones[n].hinted_pages ?? []).length));
    rows.push(machine(String(hs.phase ?? 'idle'), ['idle', 'fill', 'report', 'drain'], 'phase'));
    rows.push(
      h('table', { class: 'zoneflags' }, [
        h('caption', {}, [`zone flags · hinted_pages[order ≥ ${minOrder}] · refcnt ${hs.refcnt ?? 0}`]),
        h('thead', {}, [
          h('tr', {}, [
            h('th', { scope: 'col' }, ['zone']),
            h('th', { scope: 'col' }, ['REQUESTED']),
            h('th', { scope: 'col' }, ['ACTIVE']),
            ...Array.from({ length: maxLen }, (_, i) => h('th', { scope: 'col', class: 'num' }, [`o${minOrder + i}`])),
          ]),
        ]),
        h(
          'tbody',
          {},
          names.map((n) =>
            h('tr', { 'data-zone': n }, [
              h('th', { scope: 'row' }, [n]),
              h('td', { class: zones[n].requested ? 'flag on' : 'flag', 'data-flag': 'requested' }, [zones[n].requested ? 'set' : '·']),
              h('td', { class: zones[n].active ? 'flag on' : 'flag', 'data-flag': 'active' }, [zones[n].active ? 'set' : '·']),
              ...Array.from({ length: maxLen }, (_, i) => h('td', { class: 'num' }, [String((zones[n].hinted_pages ?? [])[i] ?? '—')])),
            ]),
          ),
        ),
      ]),
    );
  }
  if (hs.strategy !== 'none') {
    const due = hs.next_run;
    rows.push(
      h('p', { class: 'next-run', 'data-next-run': due === null || due === undefined ? '' : String(due) }, [
        'next run ',
        h('b', {}, [due === null || due === undefined ? 'not scheduled' : `at t = ${formatSeconds(due)}`]),
        due !== null && due !== undefined ? ` (in ${formatSeconds(Math.max(0, due - state.clock))})` : '',
        (hs.pending ?? []).length ? h('span', { class: 'pending' }, [` · queued: ${hs.pending.join(', ')}`]) : null,
      ]),
    );
  }
  return rows;
}

/** @param {ClientState} state */
function constantsBlock(state) {
  const list = state.hinting.constants ?? state.config.constants ?? [];
  if (!list.length) return [];
  return [
    h('table', { class: 'constants' }, [
      h('caption', {}, ['constants (✓ = the kernel’s value)']),
      h(
        'tbody',
        {},
        list.map((c) =>
          h('tr', { 'data-constant': c.name }, [
            h('th', { scope: 'row' }, [h('code', {}, [c.name])]),
            h('td', { class: 'num' }, [String(c.value)]),
            h('td', { class: c.is_kernel ? 'kernel yes' : 'kernel no' }, [
              c.is_kernel ? '✓ kernel' : `kernel: ${c.kernel}`,
              c.modelled ? h('span', { class: 'modelled', title: 'a value of the model, not a kernel constant' }, [' · modelled']) : null,
            ]),
          ]),
        ),
      ),
    ]),
  ];
}

/** @param {ClientState} state */
function watermarkBlock(state) {
  return state.zones.map((z) => {
    const { min, low, high } = z.watermarks;
    const scale = Math.max(z.nrFreePages, high * 2, 1);
    const pct = (/** @type {number} */ v) => `${Math.min(100, (v / scale) * 100).toFixed(2)}%`;
    const below = z.nrFreePages < min ? 'min' : z.nrFreePages < low ? 'low' : z.nrFreePages < high ? 'high' : '';
    return h('div', { class: `wm${below ? ` below-${below}` : ''}`, 'data-zone': z.name }, [
      h('div', { class: 'wm-label' }, [
        h('b', {}, [z.name]),
        ` free ${formatCount(z.nrFreePages)} pages (${formatBytes(z.nrFreePages * PAGE_SIZE)})`,
        below ? h('span', { class: 'wm-warn' }, [` · below ${below}`]) : null,
      ]),
      h('div', { class: 'wm-bar', role: 'img', 'aria-label': `${z.name}: ${z.nrFreePages} free pages; watermarks min ${min}, low ${low}, high ${high}` }, [
        h('span', { class: 'wm-fill', style: `width:${pct(z.nrFreePages)}` }),
        h('span', { class: 'wm-tick min', style: `left:${pct(min)}`, title: `min ${min}` }),
        h('span', { class: 'wm-tick low', style: `left:${pct(low)}`, title: `low ${low}` }),
        h('span', { class: 'wm-tick high', style: `left:${pct(high)}`, title: `high ${high}` }),
      ]),
      h('div', { class: 'wm-scale' }, [`min ${formatCount(min)} · low ${formatCount(low)} · high ${formatCount(high)}`]),
    ]);
  });
}

/**
 * @param {ClientState} state
 * @param {string} zoneName
 */
function framesBlock(state, zoneName) {
  const z = state.zoneByName.get(zoneName);
  if (!z) return [];
  const c = z.stateCounts;
  const flag = state.hinting.strategy === 'reporting' ? 'reported' : 'hinted';
  const items = [
    ['allocated', c[1]],
    ['free', c[0]],
    [flag, c[2]],
    ['with the host', c[3]],
    ['per-cpu', c[4]],
  ];
  return [
    h('table', { class: 'frames', 'data-zone': zoneName }, [
      h('caption', {}, [`${zoneName}: page frames by state`]),
      h(
        'tbody',
        {},
        items.map(([name, n]) =>
          h('tr', { 'data-state': String(name) }, [
            h('th', { scope: 'row' }, [String(name)]),
            h('td', { class: 'num' }, [formatCount(Number(n))]),
            h('td', { class: 'num' }, [formatBytes(Number(n) * PAGE_SIZE)]),
          ]),
        ),
      ),
    ]),
  ];
}

/** @param {ClientState} state */
function hostBlock(state) {
  const hs = state.host;
  return [
    h('dl', { class: 'facts host-facts-list' }, [
      h('dt', {}, ['resident on the host']), h('dd', { 'data-host': 'resident' }, [`${formatCount(hs.resident_pages)} pages · ${formatBytes(hs.resident_pages * PAGE_SIZE)}`]),
      h('dt', {}, ['returned (discarded)']), h('dd', { 'data-host': 'discarded' }, [`${formatCount(hs.discarded_pages)} pages · ${formatBytes(hs.discarded_pages * PAGE_SIZE)}`]),
      h('dt', {}, ['pages reported']), h('dd', { 'data-host': 'reported' }, [formatCount(hs.pages_reported)]),
      h('dt', {}, ['report calls']), h('dd', { 'data-host': 'calls' }, [formatCount(hs.report_calls)]),
      h('dt', {}, ['refaults']), h('dd', { 'data-host': 'refaults' }, [formatCount(hs.refaults)]),
    ]),
  ];
}

/**
 * @param {{strategy: HTMLElement, constants: HTMLElement, watermarks: HTMLElement,
 *          host: HTMLElement, frames: HTMLElement, clock: HTMLElement}} els
 * @param {ClientState} state
 * @param {string} zoneName
 */
export function drawStatePanel(els, state, zoneName) {
  redraw(els.strategy, JSON.stringify([state.hinting, Math.round(state.clock * 1000)]), () => strategyBlock(state));
  redraw(els.constants, JSON.stringify(state.hinting.constants ?? state.config.constants), () => constantsBlock(state));
  redraw(els.watermarks, JSON.stringify([zoneName, state.zones.map((z) => [z.nrFreePages, z.watermarks, z.nrFree])]), () => [
    // The index first: a few lines that a fragmentation lesson is about, on screen at
    // 1280x720 under a short strategy block; the watermark bars follow.
    unusableTableElement(
      unusableTable(state.zones.map((z) => ({ name: z.name, unusable: unusableIndex(z.nrFree) })), state.config.max_order),
      { selected: zoneName },
    ),
    ...watermarkBlock(state),
  ]);
  redraw(els.host, JSON.stringify(state.host), () => hostBlock(state));
  const z = state.zoneByName.get(zoneName);
  redraw(els.frames, JSON.stringify([zoneName, z ? [...z.stateCounts] : null, state.hinting.strategy]), () => framesBlock(state, zoneName));
  const clock = `t = ${formatSeconds(state.clock)}`;
  if (els.clock.textContent !== clock) els.clock.textContent = clock;
}
