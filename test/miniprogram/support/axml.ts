/**
 * Just enough of an AXML reader for the template check and the page harness: elements with their
 * attributes, text, the `a:for` names in scope, `{{…}}` root identifiers and the event handlers bound.
 * Templates hold no logic (STYLE), so expressions are names, paths and the odd comparison.
 */

export interface AxmlNode {
  kind: 'element' | 'text';
  tag: string;
  attributes: Record<string, string>;
  text: string;
  line: number;
  /** Names an enclosing (or this) `a:for` introduces: its item and index. */
  loopNames: string[];
}

/** Native AXML components and template syntax tags: everything else must be in usingComponents. */
export const BUILTIN_TAGS = new Set([
  'view',
  'text',
  'image',
  'icon',
  'button',
  'input',
  'textarea',
  'label',
  'form',
  'picker',
  'picker-view',
  'picker-view-column',
  'slider',
  'switch',
  'radio',
  'radio-group',
  'checkbox',
  'checkbox-group',
  'navigator',
  'scroll-view',
  'swiper',
  'swiper-item',
  'movable-area',
  'movable-view',
  'progress',
  'rich-text',
  'web-view',
  'map',
  'canvas',
  'video',
  'lottie',
  'block',
  'slot',
  'template',
  'import',
  'include',
  'import-sjs',
]);

const KEYWORDS = new Set([
  'true',
  'false',
  'null',
  'undefined',
  'typeof',
  'instanceof',
  'in',
  'NaN',
  'Infinity',
]);

function lineAt(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

function parseAttributes(raw: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /([^\s=/]+)(?:\s*=\s*("([^"]*)"|'([^']*)'))?/g;
  for (const match of raw.matchAll(pattern)) {
    attributes[match[1]] = match[3] ?? match[4] ?? 'true';
  }
  return attributes;
}

/** Finds the `>` that ends a tag, skipping quoted attribute values (which may hold `>` in `{{a > b}}`). */
function tagEnd(source: string, from: number): number {
  let quote = '';
  for (let i = from; i < source.length; i += 1) {
    const char = source[i];
    if (quote) {
      if (char === quote) quote = '';
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '>') {
      return i;
    }
  }
  throw new Error(`unterminated tag at line ${lineAt(source, from)}`);
}

export function parseAxml(source: string): AxmlNode[] {
  const nodes: AxmlNode[] = [];
  const stack: Array<{ tag: string; loopNames: string[] }> = [];
  const scope = () => (stack.length ? stack[stack.length - 1].loopNames : []);
  let index = 0;
  while (index < source.length) {
    const open = source.indexOf('<', index);
    const textEnd = open === -1 ? source.length : open;
    const text = source.slice(index, textEnd);
    if (text.trim()) {
      nodes.push({
        kind: 'text',
        tag: '',
        attributes: {},
        text,
        line: lineAt(source, index),
        loopNames: scope(),
      });
    }
    if (open === -1) break;
    if (source.startsWith('<!--', open)) {
      const close = source.indexOf('-->', open);
      index = close === -1 ? source.length : close + 3;
      continue;
    }
    const end = tagEnd(source, open);
    const inner = source.slice(open + 1, end);
    index = end + 1;
    if (inner.startsWith('/')) {
      const tag = inner.slice(1).trim();
      const at = stack.map((entry) => entry.tag).lastIndexOf(tag);
      if (at === -1)
        throw new Error(`closing </${tag}> without an opening tag at line ${lineAt(source, open)}`);
      stack.length = at;
      continue;
    }
    const selfClosing = inner.trimEnd().endsWith('/');
    const body = selfClosing ? inner.trimEnd().slice(0, -1) : inner;
    const tag = body.match(/^[^\s/]+/)?.[0] ?? '';
    const attributes = parseAttributes(body.slice(tag.length));
    const loopNames =
      'a:for' in attributes
        ? [...scope(), attributes['a:for-item'] ?? 'item', attributes['a:for-index'] ?? 'index']
        : scope();
    nodes.push({ kind: 'element', tag, attributes, text: '', line: lineAt(source, open), loopNames });
    if (!selfClosing) stack.push({ tag, loopNames });
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].tag}>`);
  return nodes;
}

/** The expressions inside `{{…}}` of a text or attribute value. */
export function mustaches(value: string): string[] {
  return [...value.matchAll(/\{\{([\s\S]*?)\}\}/g)].map((match) => match[1]);
}

/** `a.b[c].d ? e : 'x'` → ['a', 'c', 'e']: the names the expression reads from the page's scope. */
export function rootIdentifiers(expression: string): string[] {
  const withoutStrings = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, ' ');
  const names: string[] = [];
  for (const match of withoutStrings.matchAll(/[A-Za-z_$][\w$]*/g)) {
    const before = withoutStrings.slice(0, match.index).trimEnd();
    if (before.endsWith('.') || KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

/** Attributes whose value is a name, not an expression. */
const NAME_ATTRIBUTES = new Set(['a:key', 'a:for-item', 'a:for-index', 'name', 'from', 'src']);

export function isEventAttribute(name: string): boolean {
  return /^(on|catch)[A-Z]/.test(name);
}

export interface TemplateUse {
  /** Root identifiers with where they are used. */
  bindings: Array<{ name: string; line: number }>;
  handlers: Array<{ name: string; event: string; tag: string; line: number }>;
  tags: Array<{ tag: string; line: number }>;
  sjsModules: string[];
}

export function templateUse(source: string): TemplateUse {
  const nodes = parseAxml(source);
  const use: TemplateUse = { bindings: [], handlers: [], tags: [], sjsModules: [] };
  for (const node of nodes) {
    if (node.tag === 'import-sjs' && node.attributes.name) use.sjsModules.push(node.attributes.name);
  }
  const addBindings = (value: string, node: AxmlNode) => {
    for (const expression of mustaches(value)) {
      for (const name of rootIdentifiers(expression)) {
        if (!node.loopNames.includes(name) && !use.sjsModules.includes(name))
          use.bindings.push({ name, line: node.line });
      }
    }
  };
  for (const node of nodes) {
    if (node.kind === 'text') {
      addBindings(node.text, node);
      continue;
    }
    use.tags.push({ tag: node.tag, line: node.line });
    for (const [name, value] of Object.entries(node.attributes)) {
      if (NAME_ATTRIBUTES.has(name)) continue;
      if (isEventAttribute(name) && !value.includes('{{')) {
        use.handlers.push({ name: value, event: name, tag: node.tag, line: node.line });
        continue;
      }
      addBindings(value, node);
    }
  }
  return use;
}
