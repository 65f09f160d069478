/**
 * The two reader studies. Acceptance: one mask per screen (manual or automatic, not said which), the RECIST
 * slice with its marks beside the zoomed segmentation; f accepts, j rejects. Comparison: the two masks of a
 * lesion side by side in random order; f left, j right, b both acceptable, n neither. `,` goes back, Esc
 * leaves, h shows the keys. An answer counts once the server has committed it (the page says "saved").
 */
import type { AnswerAck, StudyAnswer, StudyItem, StudyKind, StudySession } from '../../src/serve/api-types';
import { enc, getBytes, getJson, postJson, toast } from './api';
import { el } from './format';
import { hideHelp, toggleHelp, type KeyHelp } from './help';
import { COLORS, SliceView } from './slice-view';
import { defaultWindow, WINDOW_PRESETS } from './windows';

const ANSWER_KEYS: Record<StudyKind, Record<string, StudyAnswer>> = {
  acceptance: { f: 'accept', j: 'reject' },
  comparison: { f: 'left', j: 'right', b: 'both', n: 'neither' },
};

const COMMON_KEYS: KeyHelp = [
  [',', 'back to the previous screen'],
  ['↑ / ↓, wheel', 'slice up / down'],
  ['1 2 3 4 / drag', 'window presets / free window'],
  ['Esc', 'leave the study (answers are kept; you resume where you left off)'],
  ['h', 'this help'],
];
export const STUDY_KEYS: Record<StudyKind, KeyHelp> = {
  acceptance: [['f', 'accept the segmentation'], ['j', 'reject it'], ...COMMON_KEYS],
  comparison: [
    ['f', 'the left segmentation is better'],
    ['j', 'the right one is better'],
    ['b', 'both are acceptable'],
    ['n', 'neither is acceptable'],
    ...COMMON_KEYS,
  ],
};

const TITLES: Record<StudyKind, string> = { acceptance: 'Acceptance study', comparison: 'Comparison study' };
const views: SliceView[] = [];

async function viewAt(i: number): Promise<SliceView> {
  while (views.length <= i) views.push(await SliceView.create(el('div')));
  return views[i];
}

export async function renderStudy(
  root: HTMLElement,
  kind: StudyKind,
  go: (h: string) => void,
): Promise<(e: KeyboardEvent) => void> {
  const saved = localStorage.getItem(`recist3d.reader`) ?? '';
  const input = el('input', {
    id: 'reader',
    type: 'text',
    maxlength: '64',
    placeholder: 'your name',
    value: saved,
  });
  const start = el('button', { id: 'start' }, 'Start / resume');
  const form = el('form', { class: 'reader-form' }, el('label', {}, 'Reader ', input), start);
  root.replaceChildren(
    el(
      'div',
      { class: 'study-intro' },
      el('h2', {}, TITLES[kind]),
      el(
        'p',
        {},
        'Each reader has an order of their own; answers are saved as you press a key, and you can stop and come back.',
      ),
      form,
      helpTable(kind),
    ),
  );
  input.focus();
  let handler: ((e: KeyboardEvent) => void) | undefined;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reader = input.value.trim();
    try {
      const session = await postJson<StudySession>(`/api/study/${kind}/session`, { reader });
      localStorage.setItem('recist3d.reader', reader);
      input.blur();
      handler = await runStudy(root, kind, session, go);
    } catch (err) {
      toast((err as Error).message, true);
    }
  });
  return (e) => {
    if (handler) return handler(e);
    if (document.activeElement === input) return;
    if (e.key === 'Escape') go('#/');
    else if (e.key === 'h') toggleHelp(TITLES[kind], STUDY_KEYS[kind]);
  };
}

function helpTable(kind: StudyKind): HTMLElement {
  return el(
    'table',
    { class: 'keys' },
    ...STUDY_KEYS[kind].map(([k, w]) => el('tr', {}, el('td', {}, el('kbd', {}, k)), el('td', {}, w))),
  );
}

async function runStudy(root: HTMLElement, kind: StudyKind, first: StudySession, go: (h: string) => void) {
  const reader = first.reader;
  let session = first;
  let position = first.position;
  let item: StudyItem | undefined;
  let busy = false;
  const status = el('div', { class: 'study-status', id: 'study-status' });
  const panels = el('div', { class: `study-panels ${kind}` });
  const page = el('div', { class: 'study-page', 'data-kind': kind }, status, panels);
  root.replaceChildren(page);
  const shown: SliceView[] = [];

  const showStatus = (extra = '') => {
    page.dataset.position = String(position);
    page.dataset.answered = String(session.answered);
    page.dataset.total = String(session.total);
    const ans = item?.answer ? ` · your answer: ${item.answer}` : '';
    const keys = Object.entries(ANSWER_KEYS[kind])
      .map(([k, a]) => `${k} ${a}`)
      .join(' · ');
    status.textContent = `${reader} · screen ${Math.min(position + 1, session.total)} of ${session.total} · answered ${session.answered}${ans}${extra} — ${keys} · , back · Esc leave · h help`;
  };

  const load = async () => {
    if (position >= session.total) {
      item = undefined;
      panels.replaceChildren(
        el(
          'div',
          { class: 'done', id: 'study-done' },
          el('h2', {}, 'All screens answered'),
          el(
            'p',
            {},
            `${session.answered} of ${session.total} answers are saved. Press , to go back and change one, Esc to leave. Results: recist3d study report --run <run folder>.`,
          ),
        ),
      );
      page.dataset.done = 'true';
      showStatus();
      return;
    }
    page.dataset.done = 'false';
    const q = `?reader=${enc(reader)}`;
    const base = `/api/study/${kind}/items/${position}`;
    const it = await getJson<StudyItem>(base + q);
    const [ctBuf, bits] = await Promise.all([
      getBytes(`/api/lesions/${enc(it.lesionId)}/ct.nii`),
      getBytes(`${base}/masks.bin${q}`),
    ]);
    item = it;
    const masks = new Uint8Array(bits);
    const win = defaultWindow(it.window);
    const data = { masks, slab: it.slab, keySlice: it.keySlice, recist: it.recist, window: win };
    const layout =
      kind === 'acceptance'
        ? [
            { title: 'RECIST slice', bit: -1, zoom: false },
            { title: 'segmentation', bit: 0, zoom: true },
          ]
        : [
            { title: 'left (f)', bit: 0, zoom: true },
            { title: 'right (j)', bit: 1, zoom: true },
          ];
    shown.length = 0;
    const frames: HTMLElement[] = [];
    for (const [i, p] of layout.entries()) {
      const v = await viewAt(i);
      v.layers = p.bit >= 0 ? [{ bit: p.bit, color: COLORS.prediction, visible: true }] : [];
      v.recistVisible = p.bit < 0 || kind === 'comparison';
      v.zoomed = p.zoom;
      frames.push(el('figure', { class: 'panel' }, el('figcaption', {}, p.title), v.root));
      shown.push(v);
    }
    panels.replaceChildren(...frames);
    await Promise.all(shown.map((v) => v.load({ ...data, ct: ctBuf.slice(0) })));
    // the segmentation panels scroll together
    for (const v of shown)
      v.onChange = (src) => shown.forEach((o) => o !== src && (o.setSlice(src.k), o.setWindow(src.win)));
    showStatus();
  };

  const answer = async (a: StudyAnswer) => {
    busy = true;
    showStatus(' · saving…');
    try {
      const ack = await postJson<AnswerAck>(`/api/study/${kind}/answers`, { reader, position, answer: a });
      session = ack.session;
      page.dataset.lastAck = `${ack.position}:${ack.answer}`;
      toast(`saved: ${a}`);
      position += 1;
      await load();
    } catch (e) {
      toast(`NOT saved: ${(e as Error).message}`, true);
      showStatus(' · not saved, press the key again');
    } finally {
      busy = false;
    }
  };

  await load();
  return (e: KeyboardEvent) => {
    if (busy) return;
    const k = e.key;
    const a = ANSWER_KEYS[kind][k];
    if (a && item) void answer(a);
    else if (k === ',') {
      if (position > 0) {
        position -= 1;
        busy = true;
        void load().finally(() => (busy = false));
      }
    } else if (k === 'Escape') {
      if (!hideHelp()) go('#/');
    } else if (k === 'h') toggleHelp(TITLES[kind], STUDY_KEYS[kind]);
    else if (k === 'ArrowUp' || k === 'ArrowDown') {
      e.preventDefault();
      for (const v of shown) v.step(k === 'ArrowUp' ? 1 : -1);
    } else {
      const w = WINDOW_PRESETS.find((p) => p.key === k);
      if (w) for (const v of shown) v.setWindow(w.range);
    }
  };
}
