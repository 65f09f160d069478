/** A self-contained HTML report: tables, inline SVG charts and a PNG gallery (data URIs), no external files. */
import { escapeXml } from './escape.js';

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  note?: string;
}

export interface Figure {
  title: string;
  /** An SVG document string, inlined. */
  svg?: string;
  /** A PNG as a data URI. */
  png?: string;
  caption?: string;
}

export interface ReportDocument {
  title: string;
  subtitle?: string;
  /** Key facts shown at the top as "key: value" pairs. */
  facts: [string, string | number][];
  tables: Table[];
  figures: Figure[];
  gallery: Figure[];
}

function fmt(v: string | number): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '–';
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3);
  }
  return v;
}

function tableHtml(t: Table): string {
  const head = t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((v) => `<td>${escapeXml(fmt(v))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<section><h2>${escapeXml(t.title)}</h2>${t.note ? `<p class="note">${escapeXml(t.note)}</p>` : ''}
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></section>`;
}

function figureHtml(f: Figure): string {
  const content = f.svg ?? (f.png ? `<img src="${f.png}" alt="${escapeXml(f.title)}">` : '');
  return `<figure>${content}<figcaption><b>${escapeXml(f.title)}</b>${f.caption ? ` ${escapeXml(f.caption)}` : ''}</figcaption></figure>`;
}

export function renderReport(doc: ReportDocument): string {
  const facts = doc.facts
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(fmt(v))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(doc.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{margin-bottom:0}h2{margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.facts th{text-align:left}.note{color:#555;font-size:13px}
.figs{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;display:inline-block;vertical-align:top}
figcaption{font-size:12px;max-width:560px}
.gallery img{image-rendering:pixelated}
</style></head><body>
<h1>${escapeXml(doc.title)}</h1>${doc.subtitle ? `<p class="note">${escapeXml(doc.subtitle)}</p>` : ''}
<table class="facts">${facts}</table>
${doc.tables.map(tableHtml).join('\n')}
${doc.figures.length ? `<h2>Figures</h2><div class="figs">${doc.figures.map(figureHtml).join('\n')}</div>` : ''}
${doc.gallery.length ? `<h2>Gallery</h2><p class="note">Key and off-key slices. Yellow: RECIST (estimated off the key slice); red: recist3d mask; green: ground truth.</p><div class="figs gallery">${doc.gallery.map(figureHtml).join('\n')}</div>` : ''}
</body></html>
`;
}
