// The console's only way to put data on the page (T1-I console surface): values become text nodes, never markup.
// KARS_CONSOLE_UNSAFE_HTML is a build-time constant: `npm run build` defines it false (the branch is removed from the
// bundle); only the attack test builds a bundle with it true, to show a planted payload executing without this control.
declare const KARS_CONSOLE_UNSAFE_HTML: boolean;

type Child = Node | string | number | null | undefined;

export function setText(node: Element, value: string | number): void {
  if (KARS_CONSOLE_UNSAFE_HTML) node.innerHTML = String(value);
  else node.textContent = String(value);
}

/** An element with fixed attributes (names and values from this code, never from data) and text or element children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  append(node, children);
  return node;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export function append(node: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined) continue;
    if (typeof c === 'string' || typeof c === 'number') {
      const span = document.createElement('span');
      setText(span, c);
      node.append(span);
    } else node.append(c);
  }
}

export function table(headers: string[], rows: Child[][]): HTMLTableElement {
  return el('table', {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

export const time = (ms: number): string => (ms > 0 ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
