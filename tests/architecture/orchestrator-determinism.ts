// Static scan of Durable orchestrator code for what breaks replay: the orchestrator function's file and every project
// file it imports for values (type-only imports carry no code), parsed with the TypeScript compiler. Orchestrators must
// take time from ctx.df.currentUtcDateTime, randomness and I/O from activities, and never await.
import { existsSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { resolveRelative } from './import-graph';

export interface DeterminismFinding {
  file: string;
  line: number;
  what: string;
}

/** Node built-ins that do I/O (or read the clock, the environment, randomness) — not for orchestrator code. */
const IO_MODULES = /^(node:)?(http|https|http2|net|tls|dgram|dns|fs|fs\/promises|child_process|worker_threads|crypto|os|timers|timers\/promises|process)$/;
/** Global calls and member reads that are non-deterministic across replays. */
const BANNED_CALLS = new Set(['fetch', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'randomUUID', 'randomBytes', 'randomInt', 'getRandomValues']);
const BANNED_MEMBERS = new Set(['Date.now', 'Math.random', 'crypto.randomUUID', 'crypto.getRandomValues', 'performance.now', 'process.env', 'process.hrtime', 'process.uptime']);

function memberText(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) {
    const left = memberText(e.expression);
    return left === undefined ? undefined : `${left}.${e.name.text}`;
  }
  return undefined;
}

function isTypeOnlyImport(d: ts.ImportDeclaration): boolean {
  const c = d.importClause;
  if (!c) return false;
  if (c.isTypeOnly) return true;
  const b = c.namedBindings;
  return !c.name && b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((el) => el.isTypeOnly);
}

/** Findings in one source text, plus the relative value imports to follow. */
export function scanSource(file: string, text: string): { findings: DeterminismFinding[]; imports: string[] } {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const findings: DeterminismFinding[] = [];
  const imports: string[] = [];
  const add = (node: ts.Node, what: string) => findings.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const spec = node.moduleSpecifier.text;
      if (!isTypeOnlyImport(node)) {
        if (IO_MODULES.test(spec)) add(node, `imports ${spec}`);
        else if (/^@azure\/(?!functions$)/.test(spec) || spec === 'undici' || spec === 'axios') add(node, `imports ${spec}`);
        else if (spec.startsWith('.')) imports.push(spec);
      }
    } else if (ts.isCallExpression(node)) {
      const callee = memberText(node.expression);
      if (callee !== undefined && (BANNED_CALLS.has(callee) || BANNED_MEMBERS.has(callee))) add(node, `calls ${callee}()`);
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, 'dynamic import()');
      if (callee === 'require') add(node, 'require()');
      if (callee === 'Date') add(node, 'calls Date()');
    } else if (ts.isNewExpression(node) && memberText(node.expression) === 'Date' && (node.arguments?.length ?? 0) === 0) {
      add(node, 'new Date() (the clock)');
    } else if (ts.isPropertyAccessExpression(node)) {
      const m = memberText(node);
      if (m !== undefined && BANNED_MEMBERS.has(m) && !(ts.isCallExpression(node.parent) && node.parent.expression === node)) add(node, `reads ${m}`);
    } else if (ts.isAwaitExpression(node)) {
      add(node, 'await (orchestrators yield tasks)');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { findings, imports };
}

/** Scans `entry` and every project file it imports for values. */
export function scanOrchestrator(entry: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8'), exists: (p: string) => boolean = existsSync): { files: string[]; findings: DeterminismFinding[] } {
  const seen = new Set<string>();
  const findings: DeterminismFinding[] = [];
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const r = scanSource(file, read(file));
    findings.push(...r.findings);
    for (const spec of r.imports) {
      const target = resolveRelative(file, spec, exists);
      if (target) stack.push(target);
    }
  }
  return { files: [...seen].sort(), findings };
}

/** Orchestrator entry files: where each function passed to registerOrchestration(name, fn) in `registrars` is imported from. */
export function orchestratorEntries(registrars: readonly string[], read: (f: string) => string = (f) => readFileSync(f, 'utf8')): string[] {
  const out: string[] = [];
  for (const file of registrars) {
    const sf = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const importedFrom = new Map<string, string>();
    const fns: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.importClause?.namedBindings && ts.isNamedImports(node.importClause.namedBindings)) {
        for (const el of node.importClause.namedBindings.elements) importedFrom.set(el.name.text, node.moduleSpecifier.text);
      }
      if (ts.isCallExpression(node) && memberText(node.expression) === 'registerOrchestration' && node.arguments[1]) {
        const fn = node.arguments[1];
        fns.push(ts.isIdentifier(fn) ? fn.text : '<inline>');
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    for (const fn of fns) {
      const spec = importedFrom.get(fn);
      // An orchestrator written inline (or declared in the registrar) is the registrar's own code.
      const target = spec ? resolveRelative(file, spec) : file;
      if (!target) throw new Error(`cannot resolve orchestrator ${fn} registered in ${file}`);
      out.push(target);
    }
  }
  return [...new Set(out)];
}
