/** The page's router: #/ cohort list, #/lesion/<id>, #/study/acceptance, #/study/comparison. One key handler. */
import './style.css';
import { toast } from './api';
import { renderList } from './cohort-list';
import { renderLesion } from './lesion-view';
import { loadRun, state } from './state';
import { renderStudy } from './study-page';
import { plainNiivue, timing } from './timing';

const app = document.getElementById('app')!;
let onKey: ((e: KeyboardEvent) => void) | undefined;
let navStart = performance.now();

/** Shows `hash`; `t0` is when the user asked for it (a key event's timeStamp), for the render timings. */
function go(hash: string, t0 = performance.now()): void {
  navStart = t0;
  if (location.hash === hash) void route();
  else location.hash = hash;
}

async function route(): Promise<void> {
  const t0 = navStart;
  onKey = undefined;
  document.body.dataset.ready = 'false';
  try {
    await loadRun();
    document.getElementById('run-name')!.textContent =
      `run ${state.run!.runName} · ${state.run!.lesions} lesions`;
    const h = location.hash || '#/';
    const lesion = h.match(/^#\/lesion\/(.+)$/);
    const study = h.match(/^#\/study\/(acceptance|comparison)$/);
    if (lesion) onKey = await renderLesion(app, decodeURIComponent(lesion[1]), go, t0);
    else if (study) onKey = await renderStudy(app, study[1] as 'acceptance' | 'comparison', go);
    else onKey = renderList(app, (id) => go(`#/lesion/${encodeURIComponent(id)}`));
  } catch (e) {
    toast((e as Error).message, true);
    app.textContent = (e as Error).message;
  }
  document.body.dataset.ready = 'true';
}

window.addEventListener('hashchange', () => void route());
window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target as HTMLElement;
  if (t.tagName === 'INPUT' && e.key !== 'Escape') return;
  onKey?.(e);
});
if (timing.enabled) {
  const w = window as unknown as Record<string, unknown>;
  w.__recist3dOpen = (id: string) => go(`#/lesion/${encodeURIComponent(id)}`);
  w.__recist3dPeer = (id: string, name: string) => {
    const c = document.createElement('canvas');
    c.width = 912;
    c.height = 722;
    c.style.cssText = 'position:fixed;left:0;top:0;width:912px;height:722px;visibility:hidden';
    document.body.append(c);
    return plainNiivue(c, `/api/lesions/${encodeURIComponent(id)}/image`, name).finally(() => c.remove());
  };
}
void route();
