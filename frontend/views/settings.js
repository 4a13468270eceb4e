// @ts-check
/**
 * The "scenario, strategy, kernel…" settings form: filled from each snapshot (the
 * scenario list from GET /api/scenarios, the strategy's constants with the kernel's
 * values), and sent as one `configure` with only what the user changed.
 */
import { byId, h } from './dom.js';

/**
 * What the form needs of the page.
 * @typedef {object} SettingsApp
 * @property {(type: string, fields?: Record<string, unknown>) => Promise<boolean>} command
 * @property {(text: string) => void} notice
 * @property {import('./session.js').Session} session
 * @property {import('./picker.js').ScenarioPicker} picker
 */

export class SettingsForm {
  /** @param {SettingsApp} app */
  constructor(app) {
    this.app = app;
    /** @type {Array<{id: string, text: string}>} */
    this.scenarios = [];
    this.form = /** @type {HTMLFormElement} */ (byId('form-config'));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  submit() {
    const state = this.app.session.state;
    if (!state) return;
    const f = this.form;
    const val = (/** @type {string} */ n) => /** @type {HTMLInputElement} */ (f.elements.namedItem(n)).value;
    /** @type {Record<string, unknown>} */
    const fields = {};
    if (val('scenario') && val('scenario') !== state.config.scenario) fields.scenario = val('scenario');
    if (val('hinting') !== state.config.hinting) fields.hinting = val('hinting');
    if (val('kernel') !== state.config.kernel) fields.kernel = val('kernel');
    if (val('seed') !== '' && Number(val('seed')) !== state.config.seed) fields.seed = Number(val('seed'));
    const pcp = /** @type {HTMLInputElement} */ (f.elements.namedItem('pcp')).checked;
    if (pcp !== state.config.pcp) fields.pcp = pcp;
    if (val('cpus') !== '' && Number(val('cpus')) !== (state.config.cpus ?? 1)) fields.cpus = Number(val('cpus'));
    if (!fields.hinting) {
      /** @type {Record<string, number>} */
      const constants = {};
      for (const input of byId('constants-fields').querySelectorAll('input')) {
        const c = (state.hinting.constants ?? []).find((x) => x.name === input.name);
        if (c && input.value !== '' && Number(input.value) !== c.value) constants[input.name] = Number(input.value);
      }
      if (Object.keys(constants).length) fields.constants = constants;
    }
    if (Object.keys(fields).length === 0) {
      this.app.notice('nothing changed');
      return;
    }
    /** @type {HTMLDetailsElement} */ (byId('session-edit')).open = false;
    this.app.command('configure', fields);
  }

  /** @param {import('../lib/state.js').ClientState} state */
  fill(state) {
    const f = this.form;
    const set = (/** @type {string} */ n, /** @type {string} */ v) => {
      const el = /** @type {HTMLInputElement} */ (f.elements.namedItem(n));
      if (document.activeElement !== el) el.value = v;
    };
    this.fillScenarioSelect(state.config.scenario);
    set('scenario', state.config.scenario);
    set('hinting', state.config.hinting);
    set('kernel', state.config.kernel);
    set('seed', String(state.config.seed));
    /** @type {HTMLInputElement} */ (f.elements.namedItem('pcp')).checked = state.config.pcp;
    set('cpus', String(state.config.cpus ?? 1));
    const constants = state.hinting.constants ?? [];
    byId('constants-fields').replaceChildren(
      ...(constants.length
        ? constants.map((c) =>
            h('label', { class: c.is_kernel ? 'is-kernel' : 'changed' }, [
              h('code', {}, [c.name]),
              h('input', { type: 'number', name: c.name, value: c.value, step: 'any', min: 0, 'aria-label': c.name }),
              h('span', { class: 'kernel-mark' }, [c.is_kernel ? '✓ kernel' : `kernel ${c.kernel}`, c.modelled ? ' · modelled' : '']),
            ]),
          )
        : [h('span', { class: 'muted' }, ['this strategy has no constants'])]),
    );
  }

  /** @param {string} current */
  fillScenarioSelect(current) {
    const sel = /** @type {HTMLSelectElement} */ (this.form.querySelector('select[name=scenario]'));
    const list = this.scenarios.length ? this.scenarios : [{ id: current, text: current }];
    if (!list.some((s) => s.id === current)) list.unshift({ id: current, text: current });
    const sig = list.map((s) => s.id).join(',');
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.replaceChildren(...list.map((s) => h('option', { value: s.id }, [s.text])));
    sel.value = current;
  }

  /** The server's scenarios, for this form's select and the header's picker. */
  async loadScenarios() {
    try {
      const res = await fetch('/api/scenarios', { headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const data = await res.json();
      const items = Array.isArray(data) ? data : data.scenarios;
      if (!Array.isArray(items)) return;
      this.scenarios = items.map((/** @type {any} */ s) => (typeof s === 'string' ? { id: s, text: s } : { id: s.name, text: s.title ? `${s.name} — ${s.title}` : s.name }));
      this.app.picker.setScenarios(items.filter((/** @type {any} */ s) => typeof s !== 'string'));
      if (this.app.session.state) this.fillScenarioSelect(this.app.session.state.config.scenario);
    } catch {
      // the server does not list its scenarios: the select keeps the current one
    }
  }
}
