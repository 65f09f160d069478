/**
 * The lesion view: the axial slices around a lesion with RECIST, predicted and truth contours, window presets,
 * zoom to the ROI, and the volumes beside it. Everything has a key.
 */
import type { LesionDetail } from '../../src/serve/api-types';
import { toast } from './api';
import { el, fmt } from './format';
import { hideHelp, toggleHelp, type KeyHelp } from './help';
import { lesionData, prefetch } from './lesion-data';
import { COLORS, SliceView } from './slice-view';
import { qcSet, visibleLesions } from './state';
import { timing } from './timing';
import { defaultWindow, WINDOW_PRESETS } from './windows';
import { thinSlabRange } from '../../src/serve/thin-slab';

export const LESION_KEYS: KeyHelp = [
  ['↑ / ↓, wheel', 'slice up / down'],
  ['n / p', 'next / previous lesion (list order)'],
  ['1 2 3 4', `window: ${WINDOW_PRESETS.map((w) => w.name).join(', ')}`],
  ['0', "the lesion's own window"],
  ['drag', 'free window: horizontal = width, vertical = level'],
  ['z', 'zoom to the ROI / whole slice'],
  ['r', 'RECIST marks on / off'],
  ['m', 'predicted mask contour on / off'],
  ['t', 'truth contour on / off'],
  ['Esc', 'back to the list'],
  ['h', 'this help'],
];

/** View settings kept while moving from lesion to lesion. */
const prefs = {
  zoomed: true,
  recist: true,
  prediction: true,
  truth: true,
  preset: undefined as string | undefined,
};

let view: SliceView | undefined;
/** Bumped at each lesion opened, so a late whole slab never replaces a newer lesion's. */
let generation = 0;

export async function renderLesion(
  root: HTMLElement,
  id: string,
  go: (hash: string, t0?: number) => void,
  t0 = performance.now(),
): Promise<(e: KeyboardEvent) => void> {
  const shown = ++generation;
  const stage = el('div', { class: 'stage' });
  const side = el('aside', { class: 'side' }, 'Loading…');
  const toolbar = el('div', { class: 'toolbar' });
  root.replaceChildren(
    el('div', { class: 'lesion-page' }, el('div', { class: 'main-col' }, toolbar, stage), side),
  );
  // one NiiVue (one WebGL context) for the whole session: reattach its element, without the previous lesion
  if (!view) view = await SliceView.create(el('div'));
  view.unload();
  stage.append(view.root);
  const v = view;

  const list = visibleLesions();
  const at = list.findIndex((l) => l.lesionId === id);
  const neighbour = (d: number) => (at >= 0 ? list[at + d]?.lesionId : undefined);

  let detail: LesionDetail;
  try {
    const data = await lesionData(id);
    timing.record('open-data', t0);
    detail = data.detail;
    v.layers = [
      { bit: 0, color: COLORS.prediction, visible: prefs.prediction },
      { bit: 1, color: COLORS.truth, visible: prefs.truth },
    ];
    v.recistVisible = prefs.recist;
    v.zoomed = prefs.zoomed;
    const preset = WINDOW_PRESETS.find((w) => w.key === prefs.preset);
    // the thin slab first, even when the whole one is here already (a prefetched lesion): NiiVue takes in a
    // volume in a time that grows with its slices, so the first slice appears sooner; the whole slab follows
    const slab = detail.slab;
    await v.load({
      ct: data.thinCt.slice(0),
      ctRange: thinSlabRange(slab, detail.keySlice),
      masks: data.masks,
      slab: detail.slab,
      keySlice: detail.keySlice,
      recist: detail.recist,
      window: preset?.range ?? defaultWindow(detail.window),
    });
    timing.record('open-lesion', t0);
    data
      .full()
      .then(async (b) => {
        if (shown !== generation) return;
        await v.replaceCt(b.slice(0), [slab.k0, slab.k1]);
        if (shown === generation) timing.record('open-whole', t0);
      })
      .catch((e) => toast(`slices around the RECIST slice only: ${(e as Error).message}`, true));
  } catch (e) {
    side.replaceChildren(el('h2', {}, id), el('p', { class: 'error' }, (e as Error).message));
    toast((e as Error).message, true);
    return (ev) => {
      if (ev.key === 'Escape') go('#/');
      if (ev.key === 'n' && neighbour(1)) go(`#/lesion/${encodeURIComponent(neighbour(1)!)}`);
      if (ev.key === 'p' && neighbour(-1)) go(`#/lesion/${encodeURIComponent(neighbour(-1)!)}`);
    };
  }
  prefetch(neighbour(1));
  prefetch(neighbour(-1));

  const toggles: [string, keyof typeof prefs, string, string][] = [
    ['r', 'recist', 'RECIST', COLORS.recist],
    ['m', 'prediction', 'predicted mask', COLORS.prediction],
    ['t', 'truth', 'truth', COLORS.truth],
  ];
  const apply = () => {
    v.recistVisible = prefs.recist;
    v.layers[0].visible = prefs.prediction;
    v.layers[1].visible = prefs.truth;
    v.draw();
    drawToolbar();
  };
  const drawToolbar = () => {
    toolbar.replaceChildren(
      ...toggles.map(([key, pref, label, color]) => {
        const disabled = pref === 'truth' && !detail.hasTruth;
        const b = el(
          'button',
          { 'data-toggle': pref, class: prefs[pref] && !disabled ? 'on' : 'off', title: `key ${key}` },
          el('span', { class: 'swatch', style: `background:${color}` }),
          `${label} (${key})`,
        );
        if (disabled) b.setAttribute('disabled', '');
        b.addEventListener('click', () => {
          (prefs[pref] as boolean) = !prefs[pref];
          apply();
        });
        return b;
      }),
      ...WINDOW_PRESETS.map((w) => {
        const b = el(
          'button',
          { 'data-window': w.name, class: prefs.preset === w.key ? 'on' : '' },
          `${w.name} (${w.key})`,
        );
        b.addEventListener('click', () => setPreset(w.key));
        return b;
      }),
      (() => {
        const b = el('button', { 'data-zoom': '', class: v.zoomed ? 'on' : '' }, `zoom to ROI (z)`);
        b.addEventListener('click', () => setZoom(!v.zoomed));
        return b;
      })(),
    );
  };
  const setPreset = (key: string) => {
    const w = WINDOW_PRESETS.find((p) => p.key === key);
    prefs.preset = w?.key;
    v.setWindow(w?.range ?? defaultWindow(detail.window));
    drawToolbar();
  };
  const setZoom = (z: boolean) => {
    prefs.zoomed = z;
    v.setZoom(z);
    drawToolbar();
  };
  const row = (k: string, val: string) => el('tr', {}, el('th', {}, k), el('td', {}, val));
  side.replaceChildren(
    el('h2', {}, detail.lesionId),
    el(
      'table',
      { class: 'facts' },
      row('category', detail.category),
      row('status', detail.status === 'ok' ? 'ok' : `failed: ${detail.error}`),
      row('mask volume', `${fmt(detail.volumeMm3)} mm³`),
      row('RECIST ellipsoid', `${fmt(detail.ellipsoidMm3)} mm³`),
      row('RECIST long × short', `${fmt(detail.recistLongMm)} × ${fmt(detail.recistShortMm)} mm`),
      row('auto-RECIST long × short', `${fmt(detail.autoLongMm)} × ${fmt(detail.autoShortMm)} mm`),
      row(
        'lesion slices',
        detail.sliceFirst === null
          ? '–'
          : `${detail.sliceFirst}–${detail.sliceLast} (RECIST slice ${detail.keySlice})`,
      ),
      ...(detail.hasTruth
        ? [row('Dice 3D', fmt(detail.dice3d, 3)), row('Dice RECIST slice', fmt(detail.diceKey, 3))]
        : []),
      row('QC flags', qcSet(detail).join(', ') || 'none'),
      row('patient / date', `${detail.patientId || '–'} / ${detail.studyDate || '–'}`),
    ),
    el('p', { class: 'muted' }, at >= 0 ? `lesion ${at + 1} of ${list.length} in the list` : ''),
  );
  drawToolbar();
  v.root.focus();

  return (e: KeyboardEvent) => {
    const k = e.key;
    if (k === 'ArrowUp' || k === 'ArrowDown') {
      e.preventDefault();
      // timed from the key event, so time spent waiting behind other work (a slab being swapped in) counts
      if (v.step(k === 'ArrowUp' ? 1 : -1)) timing.record('next-slice', e.timeStamp);
    } else if (k === 'n' || k === 'p' || k === 'PageDown' || k === 'PageUp') {
      const next = neighbour(k === 'n' || k === 'PageDown' ? 1 : -1);
      if (next) go(`#/lesion/${encodeURIComponent(next)}`, e.timeStamp);
      else toast(k === 'n' || k === 'PageDown' ? 'last lesion of the list' : 'first lesion of the list');
    } else if (k === '0' || WINDOW_PRESETS.some((w) => w.key === k)) setPreset(k);
    else if (k === 'z') setZoom(!v.zoomed);
    else if (k === 'r' || k === 'm' || k === 't') {
      const pref = toggles.find((x) => x[0] === k)![1];
      (prefs[pref] as boolean) = !prefs[pref];
      apply();
    } else if (k === 'Escape') {
      if (!hideHelp()) go('#/');
    } else if (k === 'h' || k === '?') toggleHelp('Lesion view', LESION_KEYS);
  };
}
