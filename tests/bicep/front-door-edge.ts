// T1-S: what the deployed webhook edge does with a request, derived from the parsed Bicep as deployed with main.bicep's
// parameters, and from Azure's documented semantics of Front Door routes/domains and App Service access restrictions.
// Static: no Azure here, so this answers "what does the template tell Azure to do", never "what Azure did".
import { posix } from 'node:path';
import { entries, literal, NOT_LITERAL, prop, stringLiteral } from './bicep-model';
import type { BicepFile, ResourceDecl, SyntaxNode } from './bicep-model';
import { parseBicepSources } from './bicep-policy';

export type TlsVersion = '1.0' | '1.1' | '1.2' | '1.3';
const TLS_ORDER: readonly TlsVersion[] = ['1.0', '1.1', '1.2', '1.3'];
const tlsBelow = (v: TlsVersion, floor: TlsVersion): boolean => TLS_ORDER.indexOf(v) < TLS_ORDER.indexOf(floor);

/**
 * Front Door Standard/Premium refuses TLS below 1.2 on the azurefd.net default domain, which has no TLS setting of its
 * own ("As of March 1, 2025, TLS 1.0 and 1.1 minimum version are disallowed on Azure Front Door",
 * learn.microsoft.com/azure/frontdoor/standard-premium/tls-policy). A platform fact, not something the template can turn off.
 */
export const FRONT_DOOR_DEFAULT_DOMAIN_MIN_TLS: TlsVersion = '1.2';

/** A value the template cannot know before deployment, named by what produces it (`<file>#<symbol>.<property>`). */
export class Ref {
  constructor(readonly ref: string) {}
}

export interface EdgeDomain {
  /** `<file>#<symbol>` of the endpoint (default domain) or custom domain resource. */
  id: string;
  kind: 'default' | 'custom';
  profile: string;
  /** undefined: the template does not pin it (treated as TLS 1.0 accepted). */
  minTls: TlsVersion | undefined;
  /** Path patterns the WAF inspects on this domain (empty: none). */
  wafPatterns: string[];
}

export interface EdgeRoute {
  profile: string;
  domains: string[];
  patterns: string[];
  protocols: string[];
  httpsRedirect: boolean;
  forwardingProtocol: string;
  originCertificateNameCheck: boolean;
}

export interface AccessRule {
  priority: number;
  action: string;
  serviceTag?: string;
  cidr?: string;
  /** Accepted X-Azure-FDID values (string literals or refs to a profile's frontDoorId); undefined: no header check. */
  frontDoorIds?: Array<string | Ref>;
}

export interface EdgeApp {
  httpsOnly: boolean;
  minTls: TlsVersion | undefined;
  scmMinTls: TlsVersion | undefined;
  ftpsState: string | undefined;
  basicPublishing: { ftp: boolean; scm: boolean };
  defaultAction: string;
  rules: AccessRule[];
}

export interface EdgeModel {
  domains: EdgeDomain[];
  routes: EdgeRoute[];
  app: EdgeApp;
}

type Files = ReadonlyMap<string, BicepFile>;

/** Builds the edge model of `sources` deployed with main.bicep's defaults overridden by `mainParams`. */
export function edgeModel(sources: ReadonlyMap<string, string>, mainParams: Record<string, unknown> = {}): EdgeModel {
  const files = parseBicepSources(sources);
  const m = new Materializer(files, new Map(Object.entries(mainParams)));
  const all = [...files.values()];
  const deployed = (type: string): Array<{ file: BicepFile; r: ResourceDecl }> => all.flatMap((file) => file.resources
    .filter((r) => r.type === type && !r.existing && (!r.condition || m.value(file, r.condition) === true))
    .map((r) => ({ file, r })));

  const domains: EdgeDomain[] = [];
  for (const { file, r } of deployed('Microsoft.Cdn/profiles/afdEndpoints')) {
    domains.push({ id: `${file.path}#${r.symbol}`, kind: 'default', profile: m.parentOf(file, r), minTls: FRONT_DOOR_DEFAULT_DOMAIN_MIN_TLS, wafPatterns: [] });
  }
  for (const { file, r } of deployed('Microsoft.Cdn/profiles/customDomains')) {
    const min = m.value(file, prop(r.body, 'properties.tlsSettings.minimumTlsVersion', file));
    const minTls = ({ TLS10: '1.0', TLS12: '1.2', TLS13: '1.3' } as Record<string, TlsVersion>)[String(min)];
    domains.push({ id: `${file.path}#${r.symbol}`, kind: 'custom', profile: m.parentOf(file, r), minTls, wafPatterns: [] });
  }
  for (const { file, r } of deployed('Microsoft.Cdn/profiles/securityPolicies')) {
    const params = m.value(file, prop(r.body, 'properties.parameters', file)) as { type?: string; associations?: Array<{ domains?: Array<{ id?: unknown }>; patternsToMatch?: string[] }> };
    if (params?.type !== 'WebApplicationFirewall') continue;
    for (const a of params.associations ?? []) {
      for (const d of a.domains ?? []) {
        const target = d.id instanceof Ref ? domains.find((x) => `${x.id}.id` === (d.id as Ref).ref) : undefined;
        if (target) target.wafPatterns.push(...(a.patternsToMatch ?? []));
      }
    }
  }

  const routes: EdgeRoute[] = [];
  for (const { file, r } of deployed('Microsoft.Cdn/profiles/afdEndpoints/routes')) {
    const p = m.value(file, prop(r.body, 'properties', file)) as Record<string, unknown>;
    const endpoint = m.parentOf(file, r);
    const routeDomains = [
      ...(p.linkToDefaultDomain === 'Enabled' ? [endpoint] : []),
      ...((p.customDomains as Array<{ id?: unknown }> | undefined) ?? []).map((d) => (d.id instanceof Ref ? d.id.ref.replace(/\.id$/, '') : `unresolved:${String(d.id)}`)),
    ];
    const group = p.originGroup as { id?: unknown } | undefined;
    const groupId = group?.id instanceof Ref ? group.id.ref.replace(/\.id$/, '') : undefined;
    const origins = deployed('Microsoft.Cdn/profiles/originGroups/origins').filter((o) => m.parentOf(o.file, o.r) === groupId);
    routes.push({
      profile: domains.find((d) => d.id === endpoint)?.profile ?? `unresolved:${endpoint}`,
      domains: routeDomains,
      patterns: (p.patternsToMatch as string[] | undefined) ?? [],
      protocols: (p.supportedProtocols as string[] | undefined) ?? ['Http', 'Https'],
      httpsRedirect: p.httpsRedirect === 'Enabled',
      forwardingProtocol: String(p.forwardingProtocol ?? 'MatchRequest'),
      originCertificateNameCheck: origins.length > 0 && origins.every((o) => m.value(o.file, prop(o.r.body, 'properties.enforceCertificateNameCheck', o.file)) === true),
    });
  }

  const sites = deployed('Microsoft.Web/sites');
  if (sites.length !== 1) throw new Error(`expected one Function app, found ${sites.length}`);
  const { file: siteFile, r: site } = sites[0]!;
  const props = m.value(siteFile, prop(site.body, 'properties', siteFile)) as Record<string, unknown>;
  const siteConfig = (props.siteConfig ?? {}) as Record<string, unknown>;
  const tls = (v: unknown): TlsVersion | undefined => (TLS_ORDER.includes(v as TlsVersion) ? (v as TlsVersion) : undefined);
  const publishing = (name: string): boolean => {
    const policy = siteFile.resources.find((x) => x.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies' && literal(prop(x.body, 'name', siteFile)) === name);
    return policy ? m.value(siteFile, prop(policy.body, 'properties.allow', siteFile)) !== false : true;
  };
  const rules = ((siteConfig.ipSecurityRestrictions as Array<Record<string, unknown>> | undefined) ?? []).map((x): AccessRule => {
    const headers = (x.headers ?? {}) as Record<string, unknown>;
    const fdid = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-azure-fdid')?.[1];
    const isTag = x.tag === 'ServiceTag';
    return {
      priority: Number(x.priority ?? 65000),
      action: String(x.action ?? 'Allow'),
      ...(isTag ? { serviceTag: String(x.ipAddress) } : { cidr: String(x.ipAddress) }),
      ...(fdid !== undefined ? { frontDoorIds: fdid as Array<string | Ref> } : {}),
    };
  });
  return {
    domains,
    routes,
    app: {
      httpsOnly: props.httpsOnly === true,
      minTls: tls(siteConfig.minTlsVersion),
      scmMinTls: tls(siteConfig.scmMinTlsVersion),
      ftpsState: typeof siteConfig.ftpsState === 'string' ? siteConfig.ftpsState : undefined,
      basicPublishing: { ftp: publishing('ftp'), scm: publishing('scm') },
      // App Service allows everything not matched unless the default action says otherwise.
      defaultAction: String(siteConfig.ipSecurityRestrictionsDefaultAction ?? 'Allow'),
      rules,
    },
  };
}

// --- requests -------------------------------------------------------------------------------------------------------

export type AppOutcome = 'tls-refused' | 'denied' | 'redirected-to-https' | 'served-https' | 'served-cleartext';

export interface AppRequest {
  /** Where the TCP connection comes from: a service tag's address space or a plain client IP. */
  from: { serviceTag: string } | { ip: string };
  /** X-Azure-FDID as received; Front Door always overwrites it with the sending profile's id. */
  frontDoorId?: string;
  scheme: 'http' | 'https';
  tls?: TlsVersion;
  site?: 'main' | 'scm';
}

/** App Service front end: TLS floor, then access restrictions by priority (first match wins), then HTTPS only. */
export function appRequest(app: EdgeApp, req: AppRequest): AppOutcome {
  const floor = req.site === 'scm' ? app.scmMinTls : app.minTls;
  if (req.scheme === 'https' && tlsBelow(req.tls ?? '1.2', floor ?? '1.0')) return 'tls-refused';
  if (req.site !== 'scm') {
    const match = [...app.rules].sort((a, b) => a.priority - b.priority).find((r) => {
      const source = 'serviceTag' in req.from
        ? r.serviceTag === req.from.serviceTag
        : r.cidr !== undefined && (r.cidr === 'Any' || cidrContains(r.cidr, req.from.ip));
      if (!source) return false;
      if (!r.frontDoorIds) return true;
      return r.frontDoorIds.some((v) => (v instanceof Ref ? v.ref : `literal:${v}`) === req.frontDoorId);
    });
    if ((match?.action ?? app.defaultAction) !== 'Allow') return 'denied';
  }
  if (req.scheme === 'http') return app.httpsOnly ? 'redirected-to-https' : 'served-cleartext';
  return 'served-https';
}

export interface FrontDoorRequest {
  domain: 'default' | 'custom';
  scheme: 'http' | 'https';
  tls?: TlsVersion;
  path: string;
}

export type FrontDoorOutcome =
  | { outcome: 'tls-refused' | 'no-route' | 'redirected-to-https' }
  | { outcome: 'forwarded'; wafInspected: boolean; originLeg: 'https-verified' | 'https-unverified' | 'cleartext'; app: AppOutcome };

/** A request to this deployment's Front Door: domain TLS floor, route match, WAF association, then the origin leg. */
export function frontDoorRequest(model: EdgeModel, req: FrontDoorRequest): FrontDoorOutcome {
  const domain = model.domains.find((d) => d.kind === req.domain);
  if (!domain) throw new Error(`no ${req.domain} domain is deployed`);
  if (req.scheme === 'https' && tlsBelow(req.tls ?? '1.2', domain.minTls ?? '1.0')) return { outcome: 'tls-refused' };
  const route = model.routes.find((r) => r.domains.includes(domain.id) && r.patterns.some((p) => pathMatches(p, req.path))
    && (r.protocols.includes(req.scheme === 'http' ? 'Http' : 'Https')));
  if (!route) return { outcome: 'no-route' };
  if (req.scheme === 'http' && route.httpsRedirect) return { outcome: 'redirected-to-https' };
  const originScheme = route.forwardingProtocol === 'HttpsOnly' ? 'https' : route.forwardingProtocol === 'HttpOnly' ? 'http' : req.scheme;
  const originLeg = originScheme === 'http' ? 'cleartext' : route.originCertificateNameCheck ? 'https-verified' : 'https-unverified';
  // Front Door reaches origins from the AzureFrontDoor.Backend range and stamps its own profile id.
  const app = appRequest(model.app, { from: { serviceTag: 'AzureFrontDoor.Backend' }, frontDoorId: `${route.profile}.properties.frontDoorId`, scheme: originScheme, tls: '1.2' });
  return { outcome: 'forwarded', wafInspected: domain.wafPatterns.some((p) => pathMatches(p, req.path)), originLeg, app };
}

/** Publishing over FTP: refused unless FTP(S) is on and basic credentials are allowed. */
export function ftpLogin(app: EdgeApp, scheme: 'ftp' | 'ftps'): 'refused' | 'accepted' {
  if (app.ftpsState === 'Disabled' || !app.basicPublishing.ftp) return 'refused';
  if (scheme === 'ftp' && app.ftpsState === 'FtpsOnly') return 'refused';
  return 'accepted';
}

/** Front Door patterns: exact path or `<prefix>/*`. */
function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('/*') ? path.startsWith(pattern.slice(0, -1)) || path === pattern.slice(0, -2) : path === pattern;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (!base || base.includes(':') || ip.includes(':')) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const toInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  return Math.floor(toInt(base) / size) === Math.floor(toInt(ip) / size);
}

// --- materializing expressions ---------------------------------------------------------------------------------------

/**
 * Turns Bicep expressions into JSON, following parameters into the caller's arguments (main.bicep), module outputs
 * into the module, variables, loops, ternaries and concat. What only exists after deployment becomes a Ref.
 */
class Materializer {
  constructor(private readonly files: Files, private readonly mainParams: ReadonlyMap<string, unknown>) {}

  value(file: BicepFile, node: SyntaxNode | undefined, locals: ReadonlyMap<string, unknown> = new Map()): unknown {
    if (!node) return undefined;
    switch (node.type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of entries(node)) out[k] = this.value(file, v, locals);
        return out;
      }
      case 'array':
        return node.namedChildren.filter((c) => c.type !== 'comment').map((c) => this.value(file, c, locals));
      case 'for_statement': {
        const body = node.childForFieldName('body')!;
        const params = node.namedChildren.find((c) => c.type === 'for_loop_parameters');
        const item = params ? params.namedChildren[0]!.text : node.childForFieldName('initializer')!.text;
        const index = params?.namedChildren[1]?.text;
        const iterable = node.namedChildren.find((c) => c !== body && c.type !== 'for_loop_parameters' && c !== node.childForFieldName('initializer'));
        const items = this.value(file, iterable, locals);
        if (!Array.isArray(items)) return new Ref(`unresolved-loop:${node.text.slice(0, 40)}`);
        return items.map((x, i) => this.value(file, body, new Map([...locals, [item, x], ...(index ? [[index, i] as const] : [])])));
      }
      case 'ternary_expression': {
        const c = this.value(file, node.childForFieldName('condition') ?? undefined, locals);
        if (typeof c !== 'boolean') return new Ref(`unresolved-condition:${node.text.slice(0, 40)}`);
        return this.value(file, node.childForFieldName(c ? 'consequence' : 'alternative') ?? undefined, locals);
      }
      case 'parenthesized_expression':
        return this.value(file, node.namedChildren[0], locals);
      case 'unary_expression': {
        const v = this.value(file, node.childForFieldName('argument') ?? node.namedChildren[0], locals);
        if (node.text.trimStart().startsWith('!')) return typeof v === 'boolean' ? !v : new Ref(`unresolved:${node.text}`);
        return typeof v === 'number' ? -v : new Ref(`unresolved:${node.text}`);
      }
      case 'binary_expression': {
        const l = this.value(file, node.childForFieldName('left') ?? undefined, locals);
        const r = this.value(file, node.childForFieldName('right') ?? undefined, locals);
        const op = node.children.find((c) => !c.isNamed)?.text;
        if (l instanceof Ref || r instanceof Ref) return new Ref(`unresolved:${node.text.slice(0, 40)}`);
        switch (op) {
          case '+': return (l as number) + (r as number);
          case '-': return (l as number) - (r as number);
          case '==': return l === r;
          case '!=': return l !== r;
          case '&&': return Boolean(l) && Boolean(r);
          case '||': return Boolean(l) || Boolean(r);
          case '??': return l ?? r;
          default: return new Ref(`unresolved:${node.text.slice(0, 40)}`);
        }
      }
      case 'call_expression': {
        const fn = node.childForFieldName('function')?.text;
        const args = (node.childForFieldName('arguments')?.namedChildren ?? []).map((a) => this.value(file, a, locals));
        // A resource id or name is never empty, even before it exists.
        if (fn === 'empty' && args[0] instanceof Ref && /\.(id|name)$/.test(args[0].ref)) return false;
        if (args.some((a) => a instanceof Ref)) return fn === 'concat' && args.every(Array.isArray) ? args.flat() : new Ref(`unresolved-call:${node.text.slice(0, 40)}`);
        switch (fn) {
          case 'empty': return args[0] === '' || args[0] === null || (Array.isArray(args[0]) && args[0].length === 0) || (typeof args[0] === 'object' && args[0] !== null && Object.keys(args[0]).length === 0);
          case 'concat': return args.every(Array.isArray) ? args.flat() : args.join('');
          case 'replace': return String(args[0]).split(String(args[1])).join(String(args[2]));
          case 'string': return typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
          case 'toLower': return String(args[0]).toLowerCase();
          default: return new Ref(`unresolved-call:${node.text.slice(0, 40)}`);
        }
      }
      case 'identifier': {
        if (locals.has(node.text)) return locals.get(node.text);
        if (file.vars.has(node.text)) return this.value(file, file.vars.get(node.text), new Map());
        if (file.params.has(node.text)) return this.param(file, node.text);
        return new Ref(`unresolved:${node.text}`);
      }
      case 'member_expression':
        return this.member(file, node, locals);
      case 'string': {
        const s = stringLiteral(node);
        if (s !== undefined) return s;
        let out = '';
        for (const c of node.namedChildren) {
          const part = c.type === 'interpolation' ? this.value(file, c.namedChildren[0], locals) : c.type === 'string_content' ? c.text : undefined;
          if (typeof part !== 'string' && typeof part !== 'number') return new Ref(`unresolved-string:${node.text.slice(0, 40)}`);
          out += String(part);
        }
        return out;
      }
      default: {
        const l = literal(node);
        return l === NOT_LITERAL ? new Ref(`unresolved:${node.text.slice(0, 40)}`) : l;
      }
    }
  }

  /** `<file>#<symbol>` of a resource's parent (the `parent:` property, through `existing` declarations). */
  parentOf(file: BicepFile, r: ResourceDecl): string {
    const parent = prop(r.body, 'parent', file);
    return parent?.type === 'identifier' ? this.resourceBase(file, parent.text) : `unresolved-parent:${r.symbol}`;
  }

  private param(file: BicepFile, name: string): unknown {
    if (file.path === 'bicep/main.bicep' && this.mainParams.has(name)) return this.mainParams.get(name);
    for (const caller of this.files.values()) {
      for (const mod of caller.modules) {
        if (posix.normalize(posix.join(posix.dirname(caller.path), mod.path)) !== file.path) continue;
        const arg = prop(mod.body, `params.${name}`, caller);
        if (arg) return this.value(caller, arg);
      }
    }
    const def = file.params.get(name)?.defaultValue;
    return def ? this.value(file, def) : new Ref(`param:${file.path}#${name}`);
  }

  /** A deployed resource's identity: existing declarations resolve to the resource their name points at. */
  private resourceBase(file: BicepFile, symbol: string): string {
    const r = file.resources.find((x) => x.symbol === symbol);
    if (r?.existing) {
      const name = this.value(file, prop(r.body, 'name', file));
      if (name instanceof Ref && name.ref.endsWith('.name')) return name.ref.slice(0, -'.name'.length);
    }
    return `${file.path}#${symbol}`;
  }

  private member(file: BicepFile, node: SyntaxNode, locals: ReadonlyMap<string, unknown>): unknown {
    // Flatten `a.b.c` (the `!` of `mod!.outputs` is not part of the tree).
    const chain: string[] = [];
    let cur: SyntaxNode | null = node;
    while (cur?.type === 'member_expression') {
      chain.unshift(cur.childForFieldName('property')!.text);
      cur = cur.childForFieldName('object');
    }
    if (cur?.type !== 'identifier') return new Ref(`unresolved:${node.text.slice(0, 40)}`);
    const head = cur.text;
    const mod = file.modules.find((x) => x.symbol === head);
    if (mod && chain[0] === 'outputs' && chain.length === 2) {
      const target = this.files.get(posix.normalize(posix.join(posix.dirname(file.path), mod.path)));
      const out = target?.outputs.find((o) => o.name === chain[1]);
      return target && out ? this.value(target, out.value) : new Ref(`unresolved-output:${node.text}`);
    }
    if (file.resources.some((x) => x.symbol === head)) return new Ref(`${this.resourceBase(file, head)}.${chain.join('.')}`);
    const base = locals.has(head) ? locals.get(head) : this.value(file, cur, locals);
    let v: unknown = base;
    for (const k of chain) v = v && typeof v === 'object' && !(v instanceof Ref) ? (v as Record<string, unknown>)[k] : new Ref(`unresolved:${node.text}`);
    return v;
  }
}
