// The routers' path to the mesh routes (mesh-path-policy.ts) holds on the committed sources, and each promise fails
// when it is removed from a mutated copy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkMeshPath, inCidr } from './mesh-path-policy';
import { mutateSources, readBicepSources, type SourceEdit } from './bicep-sources';

const sources = readBicepSources();
const MOD = 'modules/function-app-endpoint.bicep';
const violated = (edits: readonly SourceEdit[]): boolean => checkMeshPath(mutateSources(sources, edits)).length > 0;

const MUTATIONS: ReadonlyArray<{ name: string; edits: SourceEdit[] }> = [
  { name: 'module not deployed', edits: [{ file: 'main.bicep', from: "module functionAppEndpoint 'modules/function-app-endpoint.bicep'", to: "module functionAppEndpoint 'modules/function-app-endpoint-x.bicep'" }] },
  { name: 'module only on a condition', edits: [{ file: 'main.bicep', from: "module functionAppEndpoint 'modules/function-app-endpoint.bicep' = {", to: "module functionAppEndpoint 'modules/function-app-endpoint.bicep' = if (deployAks) {" }] },
  { name: 'endpoint for another resource', edits: [{ file: 'main.bicep', from: 'siteId: functionApp.outputs.id', to: 'siteId: storage.outputs.storageAccountId' }] },
  { name: 'endpoint outside the endpoint subnet', edits: [{ file: 'main.bicep', from: '    subnetId: network.outputs.privateEndpointsSubnetId\n    privateIpAddress', to: '    subnetId: network.outputs.functionsSubnetId\n    privateIpAddress' }] },
  { name: 'zone linked to no VNet of ours', edits: [{ file: 'main.bicep', from: '    vnetId: network.outputs.vnetId\n', to: "    vnetId: 'elsewhere'\n" }] },
  { name: 'wrong sub-resource', edits: [{ file: MOD, from: "          groupIds: [\n            'sites'\n          ]", to: "          groupIds: [\n            'scm'\n          ]" }] },
  { name: 'no fixed address', edits: [{ file: MOD, from: '          privateIPAddress: privateIpAddress\n', to: '' }] },
  { name: 'not registered in the zone', edits: [{ file: MOD, from: 'privateDnsZoneId: zone.id', to: "privateDnsZoneId: 'none'" }] },
  { name: 'zone name hard-coded', edits: [{ file: MOD, from: "var zoneName = 'privatelink.${hostParts[length(hostParts) - 2]}.${last(hostParts)}'", to: "var zoneName = 'privatelink.example.net'" }] },
  { name: 'zone not linked', edits: [{ file: MOD, from: '      id: vnetId\n', to: "      id: 'x'\n" }] },
  { name: 'address outside the subnet', edits: [{ file: 'main.bicep', from: "param functionsPrivateEndpointIp string = '10.40.1.250'", to: "param functionsPrivateEndpointIp string = '10.40.2.250'" }] },
  { name: 'address not passed', edits: [{ file: 'main.bicep', from: 'privateIpAddress: functionsPrivateEndpointIp', to: "privateIpAddress: '10.40.1.9'" }] },
];

describe('mesh path policy', () => {
  it('holds on the committed sources', () => {
    expect(checkMeshPath(sources)).toEqual([]);
  });

  it.each(MUTATIONS)('fails when broken: $name', ({ edits }) => {
    expect(violated(edits)).toBe(true);
  });

  it('the sandbox NetworkPolicy allows exactly that address on 443', () => {
    const ip = /param functionsPrivateEndpointIp string = '([0-9.]+)'/.exec(sources.get('bicep/main.bicep')!)?.[1];
    const policy = readFileSync('infra/k8s/sandbox/network-policy.yaml', 'utf8').split(/^---$/m).find((d) => /name: sandbox-egress-functions/.test(d));
    expect(policy).toContain(`cidr: ${ip}/32`);
    expect(policy).toMatch(/ports:\n\s+- protocol: TCP\n\s+port: 443\n?$/);
  });

  it('checks addresses against the subnet (Azure reserves the first four and the last)', () => {
    expect(inCidr('10.40.1.250', '10.40.1.0/24')).toBe(true);
    expect(inCidr('10.40.1.3', '10.40.1.0/24')).toBe(false);
    expect(inCidr('10.40.1.255', '10.40.1.0/24')).toBe(false);
    expect(inCidr('10.40.2.4', '10.40.1.0/24')).toBe(false);
  });
});
