// Every .bicep file under bicep/ parses with tree-sitter-bicep (no ERROR, missing or misparsed nodes); the example
// parameters file names only real parameters; the linter config raises the security rules to errors. Syntax only:
// no Bicep compiler or ARM validation runs offline (docs/deploy.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBicep, syntaxProblems } from './bicep-model';
import { readBicepSources, REPO_ROOT } from './bicep-sources';

const sources = readBicepSources();

describe('bicep syntax', () => {
  it.each([...sources.keys()])('%s parses cleanly', (path) => {
    const file = parseBicep(sources.get(path)!, path);
    expect(syntaxProblems(file.root)).toEqual([]);
    expect(file.resources.length + file.modules.length).toBeGreaterThan(0);
  });

  it('reports a broken file', () => {
    const broken = sources.get('bicep/modules/cosmos.bicep')!.replace("kind: 'GlobalDocumentDB'", "kind: 'GlobalDocumentDB' = ");
    expect(syntaxProblems(parseBicep(broken).root)).not.toEqual([]);
  });

  it('reports a call split in two by the grammar (an empty parenthesized expression)', () => {
    const src = "resource r 'Microsoft.X/y@2020-01-01' = {\n  name: 'r'\n  properties: {\n    scopes: [\n      resourceGroup().id\n    ]\n  }\n}\n";
    expect(syntaxProblems(parseBicep(src).root).join(' ')).toMatch(/misparsed call/);
  });

  it('reports a ternary whose last branch is a member access (the grammar binds it to the whole ternary)', () => {
    expect(syntaxProblems(parseBicep("output o string = empty(x) ? '' : r.id\n").root).join(' ')).toMatch(/misparsed ternary member/);
    expect(syntaxProblems(parseBicep("output o string = !empty(x) ? r.id : ''\n").root)).toEqual([]);
  });

  it('the example parameters name only parameters of main.bicep', () => {
    const main = parseBicep(sources.get('bicep/main.bicep')!, 'bicep/main.bicep');
    const example = JSON.parse(readFileSync(join(REPO_ROOT, 'bicep/main.parameters.example.json'), 'utf8')) as { parameters: Record<string, unknown> };
    for (const name of Object.keys(example.parameters)) expect(main.params.has(name), name).toBe(true);
  });

  it('bicepconfig.json makes the secret-handling linter rules errors', () => {
    const config = JSON.parse(readFileSync(join(REPO_ROOT, 'bicep/bicepconfig.json'), 'utf8')) as {
      analyzers: { core: { rules: Record<string, { level: string }> } };
    };
    for (const rule of ['secure-parameter-default', 'outputs-should-not-contain-secrets', 'no-hardcoded-env-urls', 'secure-secrets-in-params']) {
      expect(config.analyzers.core.rules[rule]?.level, rule).toBe('error');
    }
  });
});
