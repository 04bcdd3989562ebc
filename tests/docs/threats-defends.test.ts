// Every attack-test file under tests/threats/ names the mitigations it defends, in a `// Defends: a, b` line in its
// header comment (right after the first line), so a mitigation whose attack test is gone or never existed shows up in
// review. Items are the `_disable` switch names (EDGE_MITIGATIONS, LIMIT_MITIGATIONS, …) or the threat model's
// Mitigation wording; commas inside parentheses belong to their item.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PREFIX = '// Defends: ';

/** Splits at commas outside parentheses; undefined when an item is empty or the parentheses do not balance. */
function items(list: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (depth < 0) return undefined;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return depth === 0 && out.every((i) => i.length > 0) ? out : undefined;
}

/** The mitigations a threats file names, or undefined when its header comment has no well-formed Defends line. */
function defendsOf(source: string): string[] | undefined {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    header.push(line);
  }
  const found = header.find((l) => l.startsWith(PREFIX));
  return found === undefined ? undefined : items(found.slice(PREFIX.length));
}

const files = readdirSync('tests/threats').filter((f) => f.endsWith('.test.ts'));

describe('tests/threats files name the mitigations they defend', () => {
  it.each(files)('%s has a `// Defends:` line in its header comment', (file) => {
    const names = defendsOf(readFileSync(`tests/threats/${file}`, 'utf8'));
    expect(names, file).toBeDefined();
    expect(new Set(names).size, `${file}: a name listed twice`).toBe(names!.length);
  });

  it('the check refuses a file without the line, a malformed one, and one below the header', () => {
    expect(defendsOf('// T1-X title\nimport x from "y";\n')).toBeUndefined();
    expect(defendsOf('// T1-X title\n// Defends:\nimport x from "y";\n')).toBeUndefined();
    expect(defendsOf('// T1-X title\n// Defends: size-cap, \n')).toBeUndefined();
    expect(defendsOf('// T1-X title\n// Defends: seccomp (every denied syscall, by rule), Landlock RO\n')).toEqual(['seccomp (every denied syscall, by rule)', 'Landlock RO']);
    expect(defendsOf('// T1-X title\nimport x from "y";\n// Defends: size-cap\n')).toBeUndefined();
    expect(defendsOf('// T1-X title\n// Defends: size-cap, schema\n// more\nimport x from "y";\n')).toEqual(['size-cap', 'schema']);
  });
});
