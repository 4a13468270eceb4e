// @ts-check
/**
 * Quiz mode on the page (the OSTEP habit): the toggle in the top bar, the question
 * before a step (buttons for named choices, a field for a number or a free list), the
 * reveal with the model's explanation, right or wrong, and the running score.
 *
 * The server holds the step until the controller answers or skips, so the outcome is
 * not on screen before the answer; it sends the question and the reveal to followers
 * too (presenter mode), who see them but cannot answer.  Whether a reply is right is
 * the server's word (`reveal.correct`), never the page's.
 */
import { ProtocolError } from '../lib/protocol.js';
import {
  answerForm,
  decodeQuestion,
  decodeReveal,
  formatScore,
  KIND_TITLES,
  originText,
  placeholderFor,
  quizKey,
  readReply,
  verdict,
} from '../lib/quiz.js';
import { h, replaceKids, withPfns } from './dom.js';

/**
 * @typedef {import('../lib/quiz.js').QuizQuestion} QuizQuestion
 * @typedef {import('../lib/quiz.js').QuizScore} QuizScore
 * @typedef {import('../lib/quiz.js').Reveal} Reveal
 * @typedef {{
 *   send: (type: string, fields?: Record<string, unknown>) => Promise<unknown>,
 *   notice: (text: string) => void,
 *   problem: (text: string) => void,
 *   whyNot?: () => string | null,
 * }} QuizDeps  `whyNot`: why quiz mode cannot be switched on now (null: it can)
 */

export class QuizView {
  /**
   * @param {HTMLElement} root the quiz section
   * @param {HTMLElement} toggle the top bar's quiz button
   * @param {QuizDeps} deps
   */
  constructor(root, toggle, deps) {
    this.root = root;
    this.toggle = toggle;
    this.deps = deps;
    /** @type {'controller' | 'follower'} */
    this.role = 'controller';
    this.on = false;
    /** @type {QuizScore} */
    this.score = { right: 0, asked: 0 };
    /** The question waiting for an answer. */
    /** @type {QuizQuestion | null} */
    this.question = null;
    /** The last reveal, shown until the view moves off its step. */
    /** @type {{question: QuizQuestion | null, reveal: Reveal, seen: boolean} | null} */
    this.revealed = null;
    /** The picked choice (-1: none). */
    this.picked = -1;
    this.error = '';
    /** An answer or skip is on its way. */
    this.sending = false;
    this.step = 0;
    /** @type {{migratetypes: string[], maxOrder: number}} */
    this.node = { migratetypes: [], maxOrder: 11 };
    /** Questions and reveals shown (for tests). */
    this.counts = { questions: 0, reveals: 0 };
    this.structure = '';
    /** @type {HTMLInputElement | null} */
    this.input = null;
    this.root.tabIndex = -1;
    toggle.addEventListener('click', () => this.toggleMode());
    this.render();
  }

  /** @param {'controller' | 'follower'} role */
  setRole(role) {
    this.role = role;
    this.render();
  }

  /**
   * Follow the session's quiz state (every snapshot and delta carries it complete).
   * @param {import('../lib/state.js').ClientState} state
   */
  update(state) {
    this.node = { migratetypes: state.config.migratetypes, maxOrder: state.config.max_order };
    this.step = state.step;
    const quiz = state.quiz;
    if (quiz) {
      this.on = quiz.on;
      this.score = quiz.score;
      if (quiz.question === null) {
        this.question = null; // answered, or dropped by a jump or by quiz mode off
      } else if (this.question?.step !== quiz.question.step || this.question.kind !== quiz.question.kind) {
        this.ask(quiz.question); // a question that waited before this page connected
      }
      if (!quiz.on) this.revealed = null;
    }
    const r = this.revealed;
    if (r) {
      if (state.step === r.reveal.step) r.seen = true;
      else if (r.seen || state.step > r.reveal.step) this.revealed = null;
    }
    this.render();
  }

  /**
   * A message the page's protocol decoder passed over (`question`, `reveal`, ...).
   * @param {string} kind
   * @param {Record<string, unknown>} message
   */
  receive(kind, message) {
    if (kind !== 'question' && kind !== 'reveal') return;
    try {
      if (kind === 'question') this.ask(decodeQuestion(message.question));
      else this.reveal(decodeReveal(message));
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.deps.problem(`Cannot show the quiz ${kind} the server sent: ${e.message}`);
    }
  }

  /** @param {QuizQuestion} question */
  ask(question) {
    const fresh = this.question?.step !== question.step;
    this.question = question;
    this.revealed = null;
    this.picked = -1;
    this.error = '';
    this.sending = false;
    if (fresh) this.counts.questions += 1;
    this.render();
    const active = document.activeElement;
    const elsewhere = active && active !== document.body && !this.root.contains(active) && active.matches('input, select, textarea');
    if (this.role === 'controller' && this.input && !elsewhere) this.input.focus();
  }

  /** @param {Reveal} reveal */
  reveal(reveal) {
    const question = this.question?.step === reveal.step ? this.question : null;
    this.revealed = { question, reveal, seen: this.step === reveal.step };
    this.question = null;
    this.score = reveal.score;
    this.sending = false;
    this.error = '';
    this.counts.reveals += 1;
    const hadFocus = this.root.contains(document.activeElement);
    this.render();
    if (hadFocus) this.root.focus(); // the pressed button is gone: keep the keys here
  }

  toggleMode() {
    if (this.role !== 'controller') {
      this.deps.notice("only the session's controller switches quiz mode");
      return;
    }
    const why = this.on ? null : this.deps.whyNot?.() ?? null;
    if (why) {
      this.deps.notice(why);
      return;
    }
    this.deps.send('quiz', { on: !this.on }).catch(() => {}); // errors are the page's banner
  }

  /** @param {string} reply */
  answer(reply) {
    this.sendReply('answer', { reply });
  }

  skip() {
    this.sendReply('skip', {});
  }

  /**
   * @param {'answer' | 'skip'} type
   * @param {Record<string, unknown>} fields
   */
  sendReply(type, fields) {
    if (!this.question || this.role !== 'controller' || this.sending) return;
    this.sending = true;
    this.error = '';
    this.patch();
    this.deps.send(type, fields).catch(() => {
      // The server said why (the page's banner); the question stays answerable.
      this.sending = false;
      this.patch();
    });
  }

  /** @param {string} text */
  submitTyped(text) {
    if (!this.question) return;
    const read = readReply(this.question, text, this.node);
    if ('error' in read) {
      this.error = read.error;
      this.patch();
      return;
    }
    this.answer(read.reply);
  }

  /** @param {number} index */
  pick(index) {
    this.picked = index;
    this.error = '';
    this.patch();
    /** @type {HTMLElement | null} */ (this.root.querySelector(`.quiz-choice[data-index="${index}"]`))?.focus();
  }

  /** A step was refused because a question waits: say so where the eyes are. */
  nudge() {
    if (!this.question) return;
    this.error = 'The step waits for this answer: answer it or skip it (Esc) first.';
    this.patch();
    this.root.classList.remove('nudge');
    void this.root.offsetWidth; // restart the highlight
    this.root.classList.add('nudge');
  }

  /**
   * The quiz's keys (before the page's): true when the key was the quiz's.
   * @param {KeyboardEvent} e
   */
  onKey(e) {
    if (document.querySelector('dialog[open]')) return false;
    if (this.question && this.role === 'controller') {
      const form = answerForm(this.question);
      const key = quizKey(e, form.mode === 'choice' ? form.choices.length : 0);
      if (!key) return false;
      e.preventDefault();
      if (key.action === 'skip') this.skip();
      else if (key.action === 'pick') this.pick(key.index);
      else if (form.mode !== 'choice') this.input?.focus();
      else if (this.picked >= 0) this.answer(form.choices[this.picked]);
      else {
        this.error = `Pick an answer first: press 1 to ${form.choices.length}, or click one.`;
        this.patch();
      }
      return true;
    }
    if (this.revealed && e.key === 'Escape') {
      this.revealed = null;
      this.render();
    }
    return false;
  }

  /** What tests read (window.__buddyscope.quiz). */
  debug() {
    return {
      on: this.on,
      score: { ...this.score },
      question: this.question,
      reveal: this.revealed?.reveal ?? null,
      picked: this.picked,
      error: this.error,
      mode: this.root.hidden ? null : this.root.dataset.mode ?? null,
      ...this.counts,
    };
  }

  // --- drawing ---------------------------------------------------------------------

  mode() {
    if (this.question) return 'asking';
    if (this.revealed) return 'revealed';
    return this.on ? 'idle' : 'off';
  }

  /** Rebuild the panel when what it shows changed; small changes are patched. */
  render() {
    // Every message comes here: attributes are written only when they change.
    const pressed = this.on ? 'true' : 'false';
    if (this.toggle.getAttribute('aria-pressed') !== pressed) this.toggle.setAttribute('aria-pressed', pressed);
    const mode = this.mode();
    const structure = JSON.stringify([mode, this.role, this.question, this.revealed?.reveal ?? null]);
    if (structure !== this.structure) {
      this.structure = structure;
      this.root.hidden = mode === 'off';
      this.root.dataset.mode = mode;
      this.root.classList.remove('nudge');
      this.input = null;
      replaceKids(this.root, mode === 'off' ? [] : this.build(mode));
    }
    this.patch();
  }

  /** @param {string} mode */
  build(mode) {
    const q = this.question ?? this.revealed?.question ?? null;
    const step = q?.step ?? this.revealed?.reveal.step;
    const kind = q?.kind ?? this.revealed?.reveal.kind ?? '';
    const head = h('div', { class: 'quiz-head' }, [
      h('b', { class: 'quiz-title' }, ['Quiz']),
      step !== undefined
        ? h('span', { class: 'quiz-what' }, [
            `step ${step} · ${KIND_TITLES[/** @type {keyof typeof KIND_TITLES} */ (kind)] ?? kind}${q ? ` · ${originText(q)}` : ''}`,
          ])
        : h('span', { class: 'quiz-what' }, ['on']),
      h('span', { class: 'quiz-score' }),
      mode === 'revealed'
        ? h('button', {
            type: 'button',
            class: 'quiz-close',
            onclick: () => {
              this.revealed = null;
              this.render();
            },
          }, ['close ', h('kbd', {}, ['Esc'])])
        : null,
    ]);
    if (mode === 'idle') {
      return [
        head,
        h('p', { class: 'quiz-idle' }, [
          'Before a step the page has a question about, it asks what the allocator will do; the step runs once the question is answered or skipped.',
        ]),
      ];
    }
    const ask = q ? h('p', { class: 'quiz-ask', id: 'quiz-ask' }, withPfns(q.ask)) : null;
    if (mode === 'revealed' && this.revealed) return [head, ask, ...this.buildReveal(this.revealed.reveal)];
    if (!this.question) return [head];
    return [head, ask, this.buildAnswer(this.question), h('p', { class: 'quiz-error', id: 'quiz-error', role: 'alert' })];
  }

  /** @param {QuizQuestion} question */
  buildAnswer(question) {
    const form = answerForm(question);
    const follower = this.role !== 'controller';
    const skip = follower
      ? h('span', { class: 'quiz-wait' }, ['the presenter answers; the step runs after that'])
      : h('button', { type: 'button', class: 'quiz-skip', 'aria-keyshortcuts': 'Escape', onclick: () => this.skip() }, [
          'skip ',
          h('kbd', {}, ['Esc']),
        ]);
    /** @type {HTMLElement} */
    let answer;
    if (form.mode === 'choice') {
      answer = h('div', { class: 'quiz-choices', role: 'group', 'aria-labelledby': 'quiz-ask' },
        form.choices.map((choice, i) =>
          h('button', {
            type: 'button',
            class: 'quiz-choice',
            'data-index': i,
            'data-choice': choice,
            'aria-pressed': 'false',
            'aria-keyshortcuts': i < 9 ? String(i + 1) : undefined,
            disabled: follower,
            onclick: () => this.answer(choice),
          }, [i < 9 ? h('kbd', {}, [String(i + 1)]) : null, choice]),
        ),
      );
    } else {
      const input = /** @type {HTMLInputElement} */ (h('input', {
        class: 'quiz-input',
        type: 'text',
        inputmode: form.mode === 'number' && !form.pfn ? 'numeric' : undefined,
        autocomplete: 'off',
        spellcheck: 'false',
        maxlength: 200,
        placeholder: placeholderFor(form),
        'aria-labelledby': 'quiz-ask',
        'aria-describedby': 'quiz-error',
        disabled: follower,
      }));
      this.input = input;
      answer = h('form', {
        class: 'quiz-form',
        onsubmit: (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          this.submitTyped(input.value);
        },
      }, [input, h('button', { type: 'submit', disabled: follower }, ['answer ', h('kbd', {}, ['Enter'])])]);
    }
    return h('div', { class: 'quiz-answer' }, [answer, skip]);
  }

  /** @param {Reveal} r */
  buildReveal(r) {
    const v = verdict(r);
    return [
      h('p', { class: `quiz-verdict ${v.tone}` }, [
        h('span', { class: 'quiz-mark', 'aria-hidden': 'true' }, [v.mark]),
        h('b', { class: 'quiz-word' }, [v.word]),
        ' — the model: ',
        h('b', { class: 'quiz-answer-text' }, withPfns(r.answer)),
        r.reply !== null ? h('span', { class: 'quiz-reply' }, withPfns(` (answered: ${r.reply})`)) : null,
      ]),
      h('p', { class: 'quiz-explain' }, withPfns(r.explain)),
    ];
  }

  /** Score, picked choice, error and the buttons' state, in place. */
  patch() {
    const score = this.root.querySelector('.quiz-score');
    if (score) score.textContent = `score ${formatScore(this.score)}`;
    for (const b of this.root.querySelectorAll('.quiz-choice')) {
      const pressed = Number(/** @type {HTMLElement} */ (b).dataset.index) === this.picked ? 'true' : 'false';
      if (b.getAttribute('aria-pressed') !== pressed) b.setAttribute('aria-pressed', pressed);
    }
    const error = this.root.querySelector('.quiz-error');
    if (error && error.textContent !== this.error) error.textContent = this.error;
    this.root.classList.toggle('sending', this.sending);
  }
}
