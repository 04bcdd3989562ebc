// Test helper: runs a standalone server entry (main.ts) as a real child process. Files are transpiled one by one
// with the TypeScript API (following relative imports), which takes well under a second, unlike a full tsc build.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export async function transpileEntry(entry: string, outDir: string, rootDir = process.cwd()): Promise<string> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await fs.readFile(file, 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    const target = path.join(outDir, path.relative(rootDir, file)).replace(/\.ts$/, '.js');
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, out);
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) await visit(path.resolve(path.dirname(file), `${m[1]}.ts`));
  };
  const abs = path.resolve(rootDir, entry);
  await visit(abs);
  return path.join(outDir, path.relative(rootDir, abs)).replace(/\.ts$/, '.js');
}

export interface StandaloneProcess {
  child: ChildProcess;
  port: number;
  /** Every line the process printed on stdout and stderr so far. */
  lines: string[];
  stop(): Promise<number | null>;
}

export async function startStandalone(
  script: string, env: NodeJS.ProcessEnv, readyPattern: RegExp, args: readonly string[] = [],
): Promise<StandaloneProcess> {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${lines.join('\n')}`)), 20_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          lines.push(line);
          const m = readyPattern.exec(line);
          if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        }
      });
    }
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${lines.join('\n')}`)); });
  });
  return {
    child, port, lines,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
