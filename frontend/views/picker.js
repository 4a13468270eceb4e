// @ts-check
/**
 * The scenario picker: the header's "scenarios" button opens a dialog listing every
 * scenario the server offers (GET /api/scenarios) with its title, its one-line summary
 * and its length; picking one opens it in this session (`configure`), which starts it
 * with the scenario's own strategy, kernel and seed.
 */
import { h } from './dom.js';

/**
 * @typedef {{name: string, title?: string, summary?: string, steps?: number,
 *            hinting?: string, kernel?: string, source?: string}} ScenarioInfo
 */

/** Scenarios that exist for tests and quick demos, not lessons: listed last. */
const BUILTIN = new Set(['builtin']);

export class ScenarioPicker {
  /**
   * @param {HTMLDialogElement} dialog
   * @param {HTMLButtonElement} button
   * @param {(name: string) => void} onPick
   */
  constructor(dialog, button, onPick) {
    this.dialog = dialog;
    this.button = button;
    this.onPick = onPick;
    /** @type {ScenarioInfo[]} */
    this.items = [];
    this.current = '';
    this.list = /** @type {HTMLElement} */ (dialog.querySelector('.picker-list'));
    button.addEventListener('click', () => this.open());
    this.list.addEventListener('click', (e) => {
      const item = /** @type {HTMLElement} */ (e.target).closest('[data-scenario]');
      if (!(item instanceof HTMLElement)) return;
      dialog.close();
      if (item.dataset.scenario !== this.current) this.onPick(item.dataset.scenario ?? '');
    });
  }

  /** @param {ScenarioInfo[]} items */
  setScenarios(items) {
    this.items = [...items.filter((s) => !BUILTIN.has(s.source ?? '')), ...items.filter((s) => BUILTIN.has(s.source ?? ''))];
    this.draw();
  }

  /** @param {string} name the session's scenario */
  setCurrent(name) {
    if (name === this.current) return;
    this.current = name;
    this.draw();
  }

  draw() {
    this.list.replaceChildren(
      ...this.items.map((s) =>
        h('li', {}, [
          h('button', { type: 'button', class: 'picker-item', 'data-scenario': s.name, 'aria-current': s.name === this.current ? 'true' : null }, [
            h('span', { class: 'picker-title' }, [s.title ?? s.name]),
            s.summary ? h('span', { class: 'picker-summary', title: s.summary }, [s.summary]) : null,
            h('span', { class: 'picker-facts' }, [
              [s.name, s.hinting, s.kernel ? `Linux ${s.kernel}` : null, typeof s.steps === 'number' ? `${s.steps} steps` : null].filter(Boolean).join(' · '),
            ]),
          ]),
        ]),
      ),
    );
  }

  open() {
    this.draw();
    this.dialog.showModal();
    /** @type {HTMLElement | null} */ (this.list.querySelector('[aria-current="true"]') ?? this.list.querySelector('button'))?.focus();
  }
}
