// Compiles Azure Functions route templates (`hooks/{channel}/{hookId}`, `{id:int?}`) so the local host routes exactly
// like the Functions host does for the templates this project uses.

export interface CompiledRoute<T> {
  route: string;
  value: T;
  match(path: string): Record<string, string> | undefined;
}

const CONSTRAINTS: Record<string, string> = {
  int: '-?\\d+',
  alpha: '[A-Za-z]+',
  guid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
  bool: '(?:true|false)',
};

export function compileRoute<T>(route: string, value: T): CompiledRoute<T> {
  const names: string[] = [];
  const segments = route.replace(/^\/+|\/+$/g, '').split('/');
  let pattern = '';
  for (const seg of segments) {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(seg);
    if (!m) {
      if (/[{}]/.test(seg)) throw new Error(`unsupported route segment "${seg}" in "${route}"`);
      pattern += '/' + seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const [, name, constraint, optional] = m;
    const body = constraint ? CONSTRAINTS[constraint] : '[^/]+';
    if (!body) throw new Error(`unsupported route constraint "${constraint}" in "${route}"`);
    names.push(name!);
    pattern += optional ? `(?:/(${body}))?` : `/(${body})`;
  }
  const re = new RegExp(`^${pattern}/?$`, 'i');
  return {
    route,
    value,
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      names.forEach((n, i) => {
        const v = m[i + 1];
        if (v !== undefined) params[n] = decodeURIComponent(v);
      });
      return params;
    },
  };
}
