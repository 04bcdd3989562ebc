// The project's import graph, read from the sources as text (no compiler): which file imports which, what a file
// reaches, and the cycles. Used by the layering tests.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/** Every .ts source below `dir` (declaration files excluded), with `/`-separated paths relative to the repo root. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The module specifiers of `src`: static imports and re-exports, side-effect imports, `import()` and `require()`. */
export const importsOf = (src: string): string[] =>
  [...src.matchAll(/(?:\bfrom|\bimport|\bimport\(|\brequire\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

/** The file a relative specifier names (`./x` → `x.ts` or `x/index.ts`), or undefined for a package or a missing file. */
export function resolveRelative(from: string, spec: string, exists: (p: string) => boolean = existsSync): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = normalize(join(dirname(from), spec)).replace(/\.js$/, '');
  return [`${base}.ts`, join(base, 'index.ts')].find((p) => exists(p));
}

export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** file → the project files it imports, for the given sources (`read` returns a file's text). */
export function buildImportGraph(files: readonly string[], read: (file: string) => string, exists?: (p: string) => boolean): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(read(file)).map((spec) => resolveRelative(file, spec, exists)).filter((p): p is string => p !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every file reachable from `start` (itself included). */
export function reachableFrom(graph: ImportGraph, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...(graph.get(file) ?? []));
  }
  return seen;
}

/** The strongly connected components of more than one file (or a file importing itself): each is an import cycle. */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep chain cannot overflow the stack.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.i < edges.length) {
        const to = edges[frame.i++]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || edges.includes(frame.node)) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}

/** The project's sources as the build and the tests see them. */
export const SOURCE_ROOTS = ['core', 'adapters', 'functions', 'infra', 'sandbox-node', 'cli', 'bench', 'tests'] as const;

export function projectGraph(): ImportGraph {
  const files = SOURCE_ROOTS.flatMap((root) => tsFiles(root));
  return buildImportGraph(files, (f) => readFileSync(f, 'utf8'));
}
