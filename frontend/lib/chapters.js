// @ts-check
/**
 * A lesson's chapters: its narrated phases as step ranges.  Pure logic, no DOM.
 *
 * The snapshot lists the branch's chapters with their titles; a phase step added later
 * (stepping on after acting in the past) arrives as a `phase` mark of the seek bar and
 * becomes a chapter too.  A chapter runs from its step to the step before the next one
 * (the last to the end of the timeline).
 */

/**
 * @typedef {{step: number, title: string, notes?: string | null}} Chapter
 * @typedef {{step: number, end: number, title: string, index: number, notes: string | null}} ChapterRange
 *   notes: the presenter's notes for the chapter (what to point at, what to ask), if any
 */

/**
 * @param {Chapter[]} chapters the snapshot's chapters
 * @param {Array<{step: number, kind: string}>} marks the seek bar's marks
 * @param {number} length the timeline's length
 * @returns {ChapterRange[]}
 */
export function chapterRanges(chapters, marks, length) {
  /** @type {Map<number, {title: string, notes: string | null}>} */
  const byStep = new Map();
  for (const c of chapters) if (c.step <= length) byStep.set(c.step, { title: c.title, notes: c.notes ?? null });
  for (const m of marks) {
    if (m.kind === 'phase' && m.step <= length && !byStep.has(m.step)) byStep.set(m.step, { title: `phase at step ${m.step}`, notes: null });
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return steps.map((step, index) => ({
    step,
    end: index + 1 < steps.length ? steps[index + 1] - 1 : Math.max(step, length),
    title: byStep.get(step)?.title ?? '',
    notes: byStep.get(step)?.notes ?? null,
    index,
  }));
}

/**
 * The chapter that `step` is in (null before the first).
 * @param {ChapterRange[]} ranges
 * @param {number} step
 */
export function chapterAt(ranges, step) {
  let found = null;
  for (const r of ranges) if (r.step <= step) found = r;
  return found;
}

/**
 * Where "next chapter" goes from `step`: the next chapter's first step (null after the last).
 * @param {ChapterRange[]} ranges
 * @param {number} step
 */
export function nextChapterStep(ranges, step) {
  return ranges.find((r) => r.step > step)?.step ?? null;
}

/**
 * Where "previous chapter" goes from `step`: the start of the chapter it is in if it is
 * past that start, else the start of the one before (0 before the first).
 * @param {ChapterRange[]} ranges
 * @param {number} step
 */
export function previousChapterStep(ranges, step) {
  const before = ranges.filter((r) => r.step < step);
  return before.length ? before[before.length - 1].step : 0;
}

/**
 * "steps 3–10", "step 3".
 * @param {ChapterRange} r
 */
export function rangeText(r) {
  return r.end > r.step ? `steps ${r.step}–${r.end}` : `step ${r.step}`;
}

/**
 * The chapter on screen in words, from the whole wording to the most compact: the
 * chapter row shows the first that fits on its line (the title always whole; the whole
 * wording in the tooltip).  `setup`: whether the "setup: N steps" note beside it shows.
 * @param {ChapterRange} r
 * @param {number} count the chapters in all
 * @returns {Array<{prefix: string, range: string, setup: boolean}>} the title goes
 *   between `prefix` and ` · range` (no range: nothing after the title)
 */
export function chapterWordings(r, count) {
  const of = `${r.index + 1} / ${count}`;
  const whole = rangeText(r);
  const short = r.end > r.step ? `${r.step}–${r.end}` : `${r.step}`;
  return [
    { prefix: `chapter ${of}: `, range: whole, setup: true },
    { prefix: `${of}: `, range: whole, setup: true },
    { prefix: `${of}: `, range: short, setup: false },
    { prefix: `${of}: `, range: '', setup: false },
  ];
}
