// @ts-check
/**
 * The printable handout of a scenario (handout.html?scenario=NAME), the pure part: its
 * address and what a chapter's step says.  A chapter is shown at its first step, its
 * phase: the phase's text describes the state there (and names what comes next), so the
 * picture there is the one its words are about.  No DOM: views/handout.js drives a
 * session through the chapters and draws the pages.
 */
import { pointOf } from './narrate.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * @typedef {import('./chapters.js').ChapterRange} ChapterRange
 * @typedef {import('./protocol.js').ModelEvent} ModelEvent
 */

/**
 * @param {string} search location.search
 * @returns {{scenario: string | null, problem: string | null}}
 */
export function parseHandoutUrl(search) {
  const scenario = new URLSearchParams(search).get('scenario');
  if (scenario === null) return { scenario: null, problem: 'Name a scenario: handout.html?scenario=NAME.' };
  if (!NAME.test(scenario)) return { scenario: null, problem: `"${scenario.slice(0, 60)}" is not a scenario name.` };
  return { scenario, problem: null };
}

/**
 * The handout's address for a scenario (relative to the page).
 * @param {string} scenario
 */
export function handoutHref(scenario) {
  return `handout.html?scenario=${encodeURIComponent(scenario)}`;
}

/**
 * What a step says: its phase text(s), then the event that carries its point (when it
 * is not the phase text itself).
 * @param {ModelEvent[]} events
 * @returns {string[]}
 */
export function stepSays(events) {
  const lines = events.filter((e) => e.kind === 'phase').map((e) => e.message);
  const point = pointOf(events);
  if (point >= 0 && events[point].kind !== 'phase' && !lines.includes(events[point].message)) lines.push(events[point].message);
  return lines;
}
