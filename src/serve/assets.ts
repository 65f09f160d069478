/**
 * The built web app (dist/web, made by `vite build` in the setup), read into memory at start. Requests name an
 * asset by its file name; nothing else on disk can be reached through this table.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recist3dError } from '../errors.js';

/** dist/web from src/serve (tsx) and from dist/serve (built) alike: both are two levels below the package. */
export const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/** Every file under `dir` by its URL path ("/index.html", "/assets/index-abc.js"). */
export function loadAssets(dir = WEB_DIR): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html')))
    throw new Recist3dError(
      'E_FILE_NOT_FOUND',
      'The web app is not built: run `npm run setup` (it runs `vite build` into dist/web)',
      { file: dir },
    );
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else
        out.set('/' + relative(dir, p).split(sep).join('/'), {
          body: readFileSync(p),
          type: TYPES[extname(p)] ?? 'application/octet-stream',
        });
    }
  };
  walk(dir);
  return out;
}
