/**
 * The layering of src/ (docs/architecture.md): no import cycle between files, and every folder imports only
 * folders below it in LAYERS. Type-only imports count too: they tie the layers as much as value imports.
 * A new upward import or cycle fails here with the files that make it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Folders of src/ from the bottom up; a folder may import its own files and the folders before it. */
const LAYERS = [
  ['types', 'util'],
  ['geometry'],
  ['recist'],
  ['io'],
  ['metrics', 'dicom'],
  ['trimap'],
  ['model'],
  ['sr'],
  ['pseudo', 'train', 'study'],
  ['synth', 'serve'],
  ['steps'],
  ['report'],
  ['pipeline'],
  ['experiments'],
  ['cli'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT =
  /(?:^|\s)(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The src/ files each file imports (relative specifiers resolved; `.js` maps to the `.ts` source). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(IMPORT)].map((m) => {
      const target = normalize(join(dirname(file), m[1] ?? m[2])).replace(/\.js$/, '');
      return `${target}.ts`;
    });
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let n = 0;
  const visit = (v: string): void => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const folderOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : '(root)';
};

test('every relative import in src/ resolves to a file', () => {
  const missing = [...importGraph()].flatMap(([file, deps]) =>
    deps.filter((d) => !safeExists(d)).map((d) => `${relative(SRC, file)} -> ${relative(SRC, d)}`),
  );
  assert.deepEqual(missing, []);
});

test('no import cycle between files of src/', () => {
  const found = cycles(importGraph()).map((c) => c.map((f) => relative(SRC, f)).join(' <-> '));
  assert.deepEqual(found, [], `import cycles:\n${found.join('\n')}`);
});

test('every folder of src/ imports only folders below it (no folder cycle)', () => {
  const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));
  const folders = new Set([...importGraph().keys()].map(folderOf).filter((f) => f !== '(root)'));
  const unplaced = [...folders].filter((f) => !rank.has(f));
  assert.deepEqual(
    unplaced,
    [],
    `folders missing from LAYERS in ${relative(process.cwd(), fileURLToPath(import.meta.url))}`,
  );
  const upward: string[] = [];
  for (const [file, deps] of importGraph()) {
    const from = folderOf(file);
    for (const dep of deps) {
      const to = folderOf(dep);
      if (from === '(root)' || to === '(root)' || from === to) continue;
      if (rank.get(to)! >= rank.get(from)!) upward.push(`${relative(SRC, file)} -> ${relative(SRC, dep)}`);
    }
  }
  assert.deepEqual(upward, [], `imports that go up or sideways:\n${upward.join('\n')}`);
});

test('the checker reads the whole tree and finds a cycle when there is one', () => {
  const graph = importGraph();
  assert.ok(graph.size > 80, `only ${graph.size} files read`);
  assert.ok([...graph.values()].flat().length > 300, 'too few imports read');
  const a = join(SRC, 'x', 'a.ts');
  const b = join(SRC, 'x', 'b.ts');
  assert.deepEqual(
    cycles(
      new Map([
        [a, [b]],
        [b, [a]],
      ]),
    ),
    [[a, b]],
  );
  assert.deepEqual(
    cycles(
      new Map([
        [a, [b]],
        [b, []],
      ]),
    ),
    [],
  );
});

function safeExists(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
