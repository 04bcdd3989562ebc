// docs/deploy.md matches the templates: every parameter of main.bicep is in its parameter table (required ones marked
// required), every output is named, the roles table names the roles the templates and the app rely on, and the stale
// claim that the app stops at CONFIG_INVALID in Azure is gone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBicepSources } from '../bicep/bicep-policy';
import { readBicepSources } from '../bicep/bicep-sources';
import { DEFAULT_OPERATOR_ROLE } from '../../functions/http/operator-auth-settings';

const doc = readFileSync('docs/deploy.md', 'utf8');
const main = parseBicepSources(readBicepSources()).get('bicep/main.bicep')!;
const tableRow = (name: string): string | undefined => doc.split('\n').find((l) => l.startsWith('|') && new RegExp(`\`${name}\``).test(l.split('|')[1] ?? ''));

describe('docs/deploy.md', () => {
  it('has a parameter row for every main.bicep parameter, and marks the ones without a default required', () => {
    for (const p of main.params.values()) {
      const row = tableRow(p.name);
      expect(row, p.name).toBeDefined();
      if (!p.defaultValue) expect(row, p.name).toMatch(/\*\*required\*\*/);
    }
  });

  it('names every output', () => {
    for (const o of main.outputs) expect(doc, o.name).toContain(`\`${o.name}\``);
  });

  it('names the roles the deployment relies on', () => {
    for (const role of ['Owner', 'User Access Administrator', 'Key Vault Secrets Officer', 'Security Admin', 'Application Administrator',
      'AKS RBAC Cluster Admin', 'Cosmos DB Built-in Data **Reader**', 'Monitoring Metrics Publisher', 'Website Contributor', DEFAULT_OPERATOR_ROLE]) {
      expect(doc, role).toContain(role);
    }
  });

  it('walks through the steps the templates leave to the operator and drops the stale CONFIG_INVALID note', () => {
    expect(doc).toContain('az network private-endpoint-connection approve');
    expect(doc).toContain('--vault-name <auditKeyVaultName>');
    expect(doc).toContain('az security pricing create --name Containers');
    expect(doc).toMatch(/--yes/);
    expect(doc).not.toMatch(/fails `CONFIG_INVALID` at start/);
    expect(doc).not.toMatch(/still requires `AzureWebJobsStorage`/);
  });
});
