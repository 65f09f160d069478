/** The key help overlay (`h`), one table per page. */
import { el } from './format';

export type KeyHelp = [string, string][];

export function showHelp(title: string, keys: KeyHelp): void {
  hideHelp();
  const box = el(
    'div',
    { id: 'help', role: 'dialog', 'aria-label': 'keys' },
    el('h2', {}, title),
    el(
      'table',
      {},
      ...keys.map(([k, what]) => el('tr', {}, el('td', {}, el('kbd', {}, k)), el('td', {}, what))),
    ),
    el('p', {}, 'Press h or Esc to close.'),
  );
  document.body.append(box);
}

/** Hides the help; true when it was shown. */
export function hideHelp(): boolean {
  const h = document.getElementById('help');
  h?.remove();
  return h !== null;
}

export function toggleHelp(title: string, keys: KeyHelp): void {
  if (!hideHelp()) showHelp(title, keys);
}
