/** The cohort list: every lesion of the run, sortable by any column, with a filter. */
import type { LesionInfo } from '../../src/serve/api-types';
import { el, fmt } from './format';
import { toggleHelp, type KeyHelp } from './help';
import { qcSet, state, visibleLesions, type SortKey } from './state';

const COLUMNS: { key: SortKey; label: string; cell: (l: LesionInfo) => string; num?: boolean }[] = [
  { key: 'lesionId', label: 'lesion', cell: (l) => l.lesionId },
  { key: 'category', label: 'category', cell: (l) => l.category },
  { key: 'status', label: 'status', cell: (l) => (l.status === 'ok' ? 'ok' : `failed: ${l.error}`) },
  { key: 'volumeMm3', label: 'volume (mm³)', cell: (l) => fmt(l.volumeMm3), num: true },
  { key: 'ellipsoidMm3', label: 'RECIST ellipsoid (mm³)', cell: (l) => fmt(l.ellipsoidMm3), num: true },
  { key: 'qc', label: 'QC flags', cell: (l) => qcSet(l).join(', ') },
  { key: 'dice3d', label: 'Dice 3D', cell: (l) => fmt(l.dice3d, 3), num: true },
];

export const LIST_KEYS: KeyHelp = [
  ['↓ / j', 'next row'],
  ['↑ / k', 'previous row'],
  ['Enter', 'open the lesion'],
  ['/', 'filter'],
  ['h', 'this help'],
];

export function renderList(root: HTMLElement, open: (id: string) => void): (e: KeyboardEvent) => void {
  const filter = el('input', {
    type: 'search',
    id: 'filter',
    placeholder: 'filter: id, category, status, QC flag…',
  });
  filter.value = state.filter;
  const count = el('span', { id: 'count' });
  const table = el('table', { id: 'lesions' });
  const hasTruth = state.run?.hasTruth ?? false;
  const columns = COLUMNS.filter((c) => c.key !== 'dice3d' || hasTruth);
  root.replaceChildren(
    el('div', { class: 'list-bar' }, filter, count),
    el('div', { class: 'table-wrap' }, table),
  );

  const draw = () => {
    const rows = visibleLesions();
    state.selected = Math.min(Math.max(0, state.selected), Math.max(0, rows.length - 1));
    count.textContent = `${rows.length} of ${state.lesions.length} lesions`;
    const head = el(
      'tr',
      {},
      ...columns.map((c) => {
        const th = el('th', { 'data-key': c.key, class: c.num ? 'num' : '' }, c.label);
        if (state.sort.key === c.key) th.dataset.sort = state.sort.desc ? 'desc' : 'asc';
        th.addEventListener('click', () => {
          state.sort = { key: c.key, desc: state.sort.key === c.key ? !state.sort.desc : false };
          draw();
        });
        return th;
      }),
    );
    const body = rows.map((l, i) => {
      const tr = el(
        'tr',
        {
          'data-id': l.lesionId,
          class: `${i === state.selected ? 'selected' : ''} ${l.status !== 'ok' ? 'failed' : ''}`,
        },
        ...columns.map((c) => el('td', { class: c.num ? 'num' : '' }, c.cell(l))),
      );
      tr.addEventListener('click', () => open(l.lesionId));
      return tr;
    });
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
    table.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  };
  filter.addEventListener('input', () => {
    state.filter = filter.value;
    state.selected = 0;
    draw();
  });
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === 'Escape') filter.blur();
  });
  draw();

  return (e: KeyboardEvent) => {
    if (document.activeElement === filter) return;
    const rows = visibleLesions();
    if (e.key === 'ArrowDown' || e.key === 'j') state.selected++;
    else if (e.key === 'ArrowUp' || e.key === 'k') state.selected--;
    else if (e.key === 'Enter' && rows[state.selected]) return open(rows[state.selected].lesionId);
    else if (e.key === '/') {
      e.preventDefault();
      return filter.focus();
    } else if (e.key === 'h' || e.key === '?') return toggleHelp('Cohort list', LIST_KEYS);
    else return;
    e.preventDefault();
    draw();
  };
}
