// The mesh path (T4; docs/deploy.md, function-app-endpoint.bicep): the AKS routers reach the Function app's /api/mesh
// routes through a private endpoint of the app ('sites') in the VNet's private-endpoint subnet, registered in a private
// DNS zone for the app's domain that is linked to the same VNet, at a fixed address; the public side keeps its
// Front-Door-only rule (checked by the main policy, FUNCTIONS_FRONT_DOOR_ONLY).
import { literal, prop, stringLiteral } from './bicep-model';
import { parseBicepSources } from './bicep-policy';
import { resolveModulePath } from './policy-helpers';

const MODULE = 'bicep/modules/function-app-endpoint.bicep';

export interface MeshPathViolation {
  rule: 'MESH_PATH';
  message: string;
}

export function checkMeshPath(sources: ReadonlyMap<string, string>): MeshPathViolation[] {
  const files = parseBicepSources(sources);
  const out: MeshPathViolation[] = [];
  const v = (message: string): void => { out.push({ rule: 'MESH_PATH', message }); };
  const main = files.get('bicep/main.bicep');
  const mod = files.get(MODULE);
  if (!main || !mod) {
    v(`bicep/main.bicep and ${MODULE} must exist`);
    return out;
  }

  // main.bicep deploys the module, unconditionally, wired to the app and the VNet's endpoint subnet.
  const uses = main.modules.filter((m) => resolveModulePath(main, m) === MODULE);
  if (uses.length !== 1) v(`main.bicep must deploy ${MODULE} once (found ${uses.length})`);
  for (const m of uses) {
    if (m.condition) v(`${m.symbol}: the mesh path must not be conditional`);
    const wired: Array<[string, RegExp]> = [
      ['siteId', /^functionApp\.outputs\.id$/],
      ['siteDefaultHostName', /^functionApp\.outputs\.defaultHostName$/],
      ['vnetId', /^network\.outputs\.vnetId$/],
      ['subnetId', /^network\.outputs\.privateEndpointsSubnetId$/],
    ];
    for (const [param, want] of wired) {
      const got = prop(m.body, `params.${param}`, main)?.text ?? 'nothing';
      if (!want.test(got)) v(`${m.symbol}: params.${param} must be ${want.source.replace(/\\/g, '').replace(/[\^$]/g, '')}, found ${got}`);
    }
  }

  // The endpoint: 'sites' of the app, in the given subnet, at the fixed address, registered in the module's zone.
  const endpoints = mod.resources.filter((r) => r.type === 'Microsoft.Network/privateEndpoints' && !r.existing);
  if (endpoints.length !== 1) v(`${MODULE}: one private endpoint expected (found ${endpoints.length})`);
  for (const r of endpoints) {
    const conn = prop(r.body, 'properties.privateLinkServiceConnections', mod);
    const text = conn?.text ?? '';
    if (!/privateLinkServiceId:\s*siteId\b/.test(text)) v(`${r.symbol}: the connection must target the app (siteId)`);
    if (JSON.stringify(literal(prop(conn?.namedChildren[0], 'properties.groupIds', mod))) !== '["sites"]') v(`${r.symbol}: groupIds must be ['sites']`);
    if (prop(r.body, 'properties.subnet.id', mod)?.text !== 'subnetId') v(`${r.symbol}: subnet.id must be the subnetId parameter`);
    const ip = prop(r.body, 'properties.ipConfigurations', mod)?.text ?? '';
    if (!/privateIPAddress:\s*privateIpAddress\b/.test(ip) || !/groupId:\s*'sites'/.test(ip)) v(`${r.symbol}: a fixed address (ipConfigurations, groupId 'sites', privateIPAddress) is required`);
  }
  const groups = mod.resources.filter((r) => r.type === 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups' && !r.existing);
  if (!groups.some((g) => /privateDnsZoneId:\s*zone\.id\b/.test(g.body.text))) v(`${MODULE}: the endpoint must register in the module's zone (privateDnsZoneId: zone.id)`);

  // The zone: named after the app's own domain (privatelink.<domain>), linked to the VNet the nodes are in.
  const zone = mod.resources.find((r) => r.symbol === 'zone' && r.type === 'Microsoft.Network/privateDnsZones');
  const zoneName = zone ? prop(zone.body, 'name', mod) : undefined;
  const zoneVar = zoneName?.type === 'identifier' ? mod.vars.get(zoneName.text) : zoneName;
  if (!zoneVar || !/^'privatelink\.\$\{hostParts\[length\(hostParts\) - 2\]\}\.\$\{last\(hostParts\)\}'$/.test(zoneVar.text)
    || !/^split\(siteDefaultHostName, '\.'\)$/.test(mod.vars.get('hostParts')?.text ?? '')) {
    v(`${MODULE}: the zone must be privatelink.<the app's domain>, derived from siteDefaultHostName`);
  }
  const links = mod.resources.filter((r) => r.type === 'Microsoft.Network/privateDnsZones/virtualNetworkLinks' && !r.existing);
  if (!links.some((l) => prop(l.body, 'parent', mod)?.text === 'zone' && prop(l.body, 'properties.virtualNetwork.id', mod)?.text === 'vnetId')) {
    v(`${MODULE}: the zone must be linked to the VNet (vnetId)`);
  }

  // The fixed address defaults inside the private-endpoints subnet.
  const ipParam = main.params.get('functionsPrivateEndpointIp');
  const net = files.get('bicep/modules/network.bicep');
  const subnet = stringLiteral(net?.params.get('privateEndpointsSubnetPrefix')?.defaultValue);
  const ipDefault = stringLiteral(ipParam?.defaultValue);
  if (!ipDefault || !subnet || !inCidr(ipDefault, subnet)) v(`functionsPrivateEndpointIp (${ipDefault ?? 'no default'}) must default inside the private-endpoints subnet (${subnet ?? '?'})`);
  const passed = uses[0] ? prop(uses[0].body, 'params.privateIpAddress', main)?.text : undefined;
  if (passed !== 'functionsPrivateEndpointIp') v(`the module's privateIpAddress must be the functionsPrivateEndpointIp parameter, found ${passed ?? 'nothing'}`);
  return out;
}

/** IPv4 `ip` inside `cidr`, excluding the 4 addresses Azure reserves at the start and the broadcast address. */
export function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string): number | undefined => {
    const p = a.split('.').map(Number);
    return p.length === 4 && p.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0 : undefined;
  };
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = toInt(ip);
  const b = toInt(base ?? '');
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 8 || bits > 29) return false;
  const size = 2 ** (32 - bits);
  const offset = a - b;
  return offset >= 4 && offset < size - 1;
}

