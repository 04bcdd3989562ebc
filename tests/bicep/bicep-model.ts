// Syntax-level model of .bicep files from the tree-sitter-bicep grammar: declarations, property lookup, literal values
// and a small evaluator. No Bicep compiler runs on these machines, so this is what the offline checks stand on.
import Parser from 'tree-sitter';
import BicepLanguage from 'tree-sitter-bicep';

export type SyntaxNode = Parser.SyntaxNode;

export interface ParamDecl {
  name: string;
  type: string;
  defaultValue?: SyntaxNode;
  decorators: string[];
}

export interface ResourceDecl {
  symbol: string;
  /** Full resource type (nested declarations are joined with their parents), without the API version. */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** The resource body object (inside a loop or condition). */
  body: SyntaxNode;
  loop?: { variable: string; iterable: SyntaxNode };
  condition?: SyntaxNode;
  decorators: string[];
}

export interface ModuleDecl {
  symbol: string;
  path: string;
  body: SyntaxNode;
  condition?: SyntaxNode;
}

export interface OutputDecl {
  name: string;
  value: SyntaxNode;
}

export interface BicepFile {
  path: string;
  source: string;
  root: SyntaxNode;
  params: Map<string, ParamDecl>;
  vars: Map<string, SyntaxNode>;
  resources: ResourceDecl[];
  modules: ModuleDecl[];
  outputs: OutputDecl[];
}

let parser: Parser | undefined;

function getParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(BicepLanguage as unknown as Parser.Language);
  }
  return parser;
}

/** Nodes tree-sitter could not fit into the grammar (ERROR) or had to invent (missing), as `type@line:col`. */
export function syntaxProblems(root: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (n: SyntaxNode): void => {
    if (n.type === 'ERROR' || n.isMissing) out.push(`${n.isMissing ? `missing ${n.type}` : 'ERROR'}@${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    // Bicep has no empty parenthesized expression: the grammar produces one when it splits `f().x` at the start of an
    // array item inside a resource into two items. Such a tree says nothing reliable about the source.
    if (n.type === 'parenthesized_expression' && n.namedChildCount === 0) out.push(`misparsed call@${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    // `c ? a : b.x` parses as `(c ? a : b).x`: the grammar binds a trailing member access to the whole ternary.
    if (n.type === 'member_expression' && n.childForFieldName('object')?.type === 'ternary_expression') out.push(`misparsed ternary member@${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    for (const c of n.children) walk(c);
  };
  walk(root);
  return out;
}

const named = (n: SyntaxNode): SyntaxNode[] => n.namedChildren.filter((c) => c.type !== 'comment' && c.type !== 'diagnostic_comment');

function decoratorNames(n: SyntaxNode | undefined): string[] {
  if (!n) return [];
  return named(n).map((d) => named(d)[0]?.childForFieldName('function')?.text ?? named(d)[0]?.text ?? '');
}

/** Splits 'Microsoft.X/y@2020-01-01' into type and API version. */
function splitType(text: string): { type: string; apiVersion: string } {
  const at = text.lastIndexOf('@');
  return at < 0 ? { type: text, apiVersion: '' } : { type: text.slice(0, at), apiVersion: text.slice(at + 1) };
}

function unwrapBody(value: SyntaxNode): { body: SyntaxNode; loop?: ResourceDecl['loop']; condition?: SyntaxNode } {
  if (value.type === 'for_statement') {
    const params = named(value).find((c) => c.type === 'for_loop_parameters');
    const variable = params ? named(params)[0]!.text : value.childForFieldName('initializer')!.text;
    const body = value.childForFieldName('body')!;
    const iterable = named(value).find((c) => c !== body && c.type !== 'for_loop_parameters' && c !== value.childForFieldName('initializer'))!;
    const inner = unwrapBody(body);
    return { ...inner, loop: { variable, iterable } };
  }
  if (value.type === 'if_statement') {
    const [condition, body] = named(value);
    return { ...unwrapBody(body!), condition: condition! };
  }
  return { body: value };
}

/** Parses one .bicep source into its declarations. */
export function parseBicep(source: string, path = '<source>'): BicepFile {
  const root = getParser().parse(source).rootNode;
  const file: BicepFile = { path, source, root, params: new Map(), vars: new Map(), resources: [], modules: [], outputs: [] };
  let pending: SyntaxNode | undefined;

  const addResource = (decl: SyntaxNode, decorators: string[], parentType?: string): void => {
    const parts = named(decl);
    const symbol = parts[0]!.text;
    const { type: rawType, apiVersion } = splitType(stringLiteral(parts[1]!) ?? parts[1]!.text);
    const type = rawType.includes('/') || !parentType ? rawType : `${parentType}/${rawType}`;
    const existing = decl.children.some((c) => c.type === 'existing');
    const { body, loop, condition } = unwrapBody(parts[parts.length - 1]!);
    file.resources.push({ symbol, type, apiVersion, existing, body, decorators, ...(loop ? { loop } : {}), ...(condition ? { condition } : {}) });
    // Nested child resources sit as object properties of the body.
    if (body.type === 'object') {
      for (const p of named(body)) {
        const child = named(p)[0];
        if (p.type === 'object_property' && child?.type === 'resource_declaration') addResource(child, [], type);
      }
    }
  };

  for (const n of named(root)) {
    if (n.type === 'decorators') {
      pending = n;
      continue;
    }
    const decorators = decoratorNames(pending);
    pending = undefined;
    const parts = named(n);
    switch (n.type) {
      case 'parameter_declaration': {
        const [id, type, def] = parts;
        file.params.set(id!.text, { name: id!.text, type: type!.text, decorators, ...(def ? { defaultValue: def } : {}) });
        break;
      }
      case 'variable_declaration':
        file.vars.set(parts[0]!.text, parts[parts.length - 1]!);
        break;
      case 'resource_declaration':
        addResource(n, decorators);
        break;
      case 'module_declaration': {
        const { body, condition } = unwrapBody(parts[parts.length - 1]!);
        file.modules.push({ symbol: parts[0]!.text, path: stringLiteral(parts[1]!) ?? parts[1]!.text, body, ...(condition ? { condition } : {}) });
        break;
      }
      case 'output_declaration':
        file.outputs.push({ name: parts[0]!.text, value: parts[parts.length - 1]! });
        break;
      default:
        break;
    }
  }
  return file;
}

/** The text of a string node without interpolation, escapes decoded; undefined for anything else. */
export function stringLiteral(node: SyntaxNode | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  let out = '';
  for (const c of named(node)) {
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += decodeEscape(c.text);
    else return undefined;
  }
  return out;
}

function decodeEscape(text: string): string {
  const map: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  return map[text] ?? text;
}

/** Key of an object property (identifier or quoted string). */
export function propertyKey(p: SyntaxNode): string | undefined {
  const k = named(p)[0];
  if (!k) return undefined;
  return k.type === 'string' ? stringLiteral(k) : k.type === 'identifier' ? k.text : undefined;
}

/** Value of an object property. */
export function propertyValue(p: SyntaxNode): SyntaxNode | undefined {
  const parts = named(p);
  return parts.length >= 2 ? parts[parts.length - 1] : undefined;
}

/** The object's properties as [key, value] pairs (nested resource declarations skipped). */
export function entries(obj: SyntaxNode): Array<[string, SyntaxNode]> {
  const out: Array<[string, SyntaxNode]> = [];
  for (const p of named(obj)) {
    if (p.type !== 'object_property') continue;
    const key = propertyKey(p);
    const value = propertyValue(p);
    if (key !== undefined && value) out.push([key, value]);
  }
  return out;
}

/**
 * Follows a dotted path through object literals. Identifiers that name a variable of `file` are followed, so
 * `properties: props` reads the variable's object.
 */
export function prop(node: SyntaxNode | undefined, path: string | readonly string[], file?: BicepFile): SyntaxNode | undefined {
  let cur = node && file ? deref(node, file) : node;
  for (const key of typeof path === 'string' ? path.split('.') : path) {
    if (!cur || cur.type !== 'object') return undefined;
    const hit = entries(cur).find(([k]) => k === key);
    cur = hit ? (file ? deref(hit[1], file) : hit[1]) : undefined;
  }
  return cur;
}

/** Identifier naming a variable → that variable's value (once; the checker reports unresolved chains). */
export function deref(node: SyntaxNode, file: BicepFile): SyntaxNode {
  let cur = node;
  for (let i = 0; i < 8 && cur.type === 'identifier' && file.vars.has(cur.text); i += 1) cur = file.vars.get(cur.text)!;
  return cur;
}

export const NOT_LITERAL: unique symbol = Symbol('not literal');

/** Plain JSON value of a literal (strings without interpolation, numbers, booleans, null, arrays, objects). */
export function literal(node: SyntaxNode | undefined): unknown {
  if (!node) return NOT_LITERAL;
  switch (node.type) {
    case 'string': {
      const s = stringLiteral(node);
      return s === undefined ? NOT_LITERAL : s;
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array': {
      const items = named(node).map(literal);
      return items.includes(NOT_LITERAL) ? NOT_LITERAL : items;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries(node)) {
        const lv = literal(v);
        if (lv === NOT_LITERAL) return NOT_LITERAL;
        out[k] = lv;
      }
      return out;
    }
    default:
      return NOT_LITERAL;
  }
}

export const UNKNOWN: unique symbol = Symbol('unknown');
export type Scope = ReadonlyMap<string, unknown>;

/** Lets a caller resolve member expressions the file alone cannot (module outputs across files). */
export interface EvaluateHooks {
  member?(node: SyntaxNode): unknown;
}

/**
 * Evaluates the deploy-time-constant part of an expression: literals, interpolation, params/vars through `scope`,
 * and a few pure functions. Anything that depends on a deployed resource (outputs, properties) is UNKNOWN.
 */
export function evaluate(node: SyntaxNode | null | undefined, scope: Scope, file?: BicepFile, hooks?: EvaluateHooks): unknown {
  if (!node) return UNKNOWN;
  switch (node.type) {
    case 'string': {
      let out = '';
      for (const c of named(node)) {
        if (c.type === 'string_content') out += c.text;
        else if (c.type === 'escape_sequence') out += decodeEscape(c.text);
        else if (c.type === 'interpolation') {
          const v = evaluate(named(c)[0], scope, file, hooks);
          if (v === UNKNOWN) return UNKNOWN;
          out += String(v);
        } else return UNKNOWN;
      }
      return out;
    }
    case 'number':
    case 'boolean':
    case 'null':
      return literal(node);
    case 'array': {
      const items = named(node).map((c) => evaluate(c, scope, file, hooks));
      return items.includes(UNKNOWN) ? UNKNOWN : items;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries(node)) out[k] = evaluate(v, scope, file, hooks);
      return out;
    }
    case 'member_expression': {
      // `resource.name` is the evaluated name property; anything else (properties, outputs) goes to the hooks.
      const obj = node.childForFieldName('object');
      const property = node.childForFieldName('property')?.text;
      const res = obj?.type === 'identifier' && property === 'name' ? file?.resources.find((r) => r.symbol === obj.text && !r.loop) : undefined;
      if (res && file) return evaluate(prop(res.body, 'name', file), scope, file, hooks);
      return hooks?.member ? hooks.member(node) : UNKNOWN;
    }
    case 'parenthesized_expression':
      return evaluate(named(node)[0], scope, file, hooks);
    case 'identifier': {
      if (scope.has(node.text)) return scope.get(node.text);
      if (file?.vars.has(node.text)) return evaluate(file.vars.get(node.text), scope, file, hooks);
      return UNKNOWN;
    }
    case 'unary_expression': {
      const v = evaluate(node.childForFieldName('argument') ?? named(node)[0], scope, file, hooks);
      if (v === UNKNOWN) return UNKNOWN;
      return node.text.trimStart().startsWith('!') ? !v : -(v as number);
    }
    case 'binary_expression': {
      const l = evaluate(node.childForFieldName('left'), scope, file, hooks);
      const r = evaluate(node.childForFieldName('right'), scope, file, hooks);
      const op = node.children.find((c) => !c.isNamed)?.text;
      if (l === UNKNOWN || r === UNKNOWN) return op === '??' && l !== UNKNOWN && l !== null ? l : UNKNOWN;
      switch (op) {
        case '==': return l === r;
        case '!=': return l !== r;
        case '&&': return Boolean(l) && Boolean(r);
        case '||': return Boolean(l) || Boolean(r);
        case '+': return (l as number) + (r as number);
        case '??': return l ?? r;
        default: return UNKNOWN;
      }
    }
    case 'ternary_expression': {
      const c = evaluate(node.childForFieldName('condition'), scope, file, hooks);
      if (c === UNKNOWN) return UNKNOWN;
      return evaluate(node.childForFieldName(c ? 'consequence' : 'alternative'), scope, file, hooks);
    }
    case 'call_expression': {
      const fn = node.childForFieldName('function')?.text;
      const argsNode = node.childForFieldName('arguments');
      const args = argsNode ? named(argsNode) : [];
      const values = args.map((a) => evaluate(a, scope, file, hooks));
      if (values.includes(UNKNOWN)) return UNKNOWN;
      switch (fn) {
        case 'string': return typeof values[0] === 'string' ? values[0] : JSON.stringify(values[0]);
        case 'toLower': return String(values[0]).toLowerCase();
        case 'empty': return values[0] === null || (values[0] as { length?: number }).length === 0 || (typeof values[0] === 'object' && Object.keys(values[0] as object).length === 0);
        case 'concat': return Array.isArray(values[0]) ? (values as unknown[][]).flat() : values.join('');
        default: return UNKNOWN;
      }
    }
    default:
      return UNKNOWN;
  }
}

/** A file's parameter scope: its defaults, overridden by `given` (module call arguments). */
export function paramScope(file: BicepFile, given: ReadonlyMap<string, unknown> = new Map()): Map<string, unknown> {
  const scope = new Map<string, unknown>();
  for (const [name, p] of file.params) {
    if (given.has(name)) scope.set(name, given.get(name));
    else if (p.defaultValue) scope.set(name, evaluate(p.defaultValue, new Map(), file));
    else scope.set(name, UNKNOWN);
  }
  return scope;
}

const fileNodes = new WeakMap<BicepFile, SyntaxNode[]>();

/** Every node of a file, depth first, computed once (each node access crosses into the native binding). */
export function nodesOf(file: BicepFile): SyntaxNode[] {
  let nodes = fileNodes.get(file);
  if (!nodes) {
    nodes = descendants(file.root);
    fileNodes.set(file, nodes);
  }
  return nodes;
}

/** Every node of a subtree, depth first. */
export function descendants(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const walk = (n: SyntaxNode): void => {
    out.push(n);
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return out;
}

export interface ModuleInstance {
  file: BicepFile;
  scope: Map<string, unknown>;
  hooks: EvaluateHooks;
  evaluate(node: SyntaxNode | null | undefined): unknown;
}

/**
 * A file evaluated as deployed: params from `given` (or defaults), and `<module>.outputs.<name>` followed into the
 * module file with the arguments this file passes. `files` is keyed by repo-relative path.
 */
export function moduleInstance(files: ReadonlyMap<string, BicepFile>, path: string, given: ReadonlyMap<string, unknown> = new Map()): ModuleInstance {
  const file = files.get(path);
  if (!file) throw new Error(`no such bicep file: ${path}`);
  const scope = paramScope(file, given);
  const hooks: EvaluateHooks = {
    member(node) {
      const outputs = node.childForFieldName('object');
      const symbol = outputs?.type === 'member_expression' && outputs.childForFieldName('property')?.text === 'outputs'
        ? outputs.childForFieldName('object')?.text
        : undefined;
      const call = symbol ? file.modules.find((m) => m.symbol === symbol) : undefined;
      if (!call) return UNKNOWN;
      const targetPath = modulePath(file, call.path);
      const argsNode = prop(call.body, 'params', file);
      const args = new Map(argsNode ? entries(argsNode).map(([k, v]) => [k, evaluate(v, scope, file, hooks)] as const) : []);
      const child = moduleInstance(files, targetPath, args);
      const out = child.file.outputs.find((o) => o.name === node.childForFieldName('property')?.text);
      return out ? child.evaluate(out.value) : UNKNOWN;
    },
  };
  return { file, scope, hooks, evaluate: (n) => evaluate(n, scope, file, hooks) };
}

/** Repo-relative path of a module reference made from `file`. */
export function modulePath(file: BicepFile, reference: string): string {
  const parts = file.path.split('/').slice(0, -1);
  for (const seg of reference.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  return parts.join('/');
}
