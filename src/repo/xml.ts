/**
 * A small reader for the XML of repository metadata (repomd.xml, primary.xml): elements, attributes, text and the
 * predefined and numeric entities. Enough for what createrepo_c writes, and strict about what it does not know: a
 * document that does not parse is reported, never half read.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, where: () => string): string {
  return text.replace(/&([^;\s&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`a bare "&" ${where()}`);
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    const value = ENTITIES[name];
    if (value === undefined) throw new Error(`an unknown entity &${name}; ${where()}`);
    return value;
  });
}

/** Local name of a qualified name: `rpm:entry` → `entry` (the metadata's namespaces are fixed). */
export const localName = (name: string) => name.slice(name.indexOf(':') + 1);

/** Parses a document into its root element; throws an Error naming the first problem and its offset. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const at = () => `at offset ${pos}`;
  while (pos < source.length) {
    const lt = source.indexOf('<', pos);
    const text = source.slice(pos, lt < 0 ? source.length : lt);
    if (text.trim()) {
      if (!stack.length) throw new Error(`text outside the root element ${at()}`);
      stack[stack.length - 1]!.text += decode(text, at);
    } else if (stack.length) stack[stack.length - 1]!.text += text;
    if (lt < 0) break;
    pos = lt;
    if (source.startsWith('<?', pos)) {
      const end = source.indexOf('?>', pos);
      if (end < 0) throw new Error(`an unclosed processing instruction ${at()}`);
      pos = end + 2;
    } else if (source.startsWith('<!--', pos)) {
      const end = source.indexOf('-->', pos);
      if (end < 0) throw new Error(`an unclosed comment ${at()}`);
      pos = end + 3;
    } else if (source.startsWith('<![CDATA[', pos)) {
      const end = source.indexOf(']]>', pos);
      if (end < 0 || !stack.length) throw new Error(`a misplaced CDATA section ${at()}`);
      stack[stack.length - 1]!.text += source.slice(pos + 9, end);
      pos = end + 3;
    } else if (source.startsWith('<!', pos)) {
      throw new Error(`a document type declaration ${at()}, which repository metadata does not have`);
    } else if (source.startsWith('</', pos)) {
      const m = /^<\/([^\s>]+)\s*>/.exec(source.slice(pos));
      const open = stack.pop();
      if (!m || !open || open.name !== m[1]) throw new Error(`a closing tag that matches no open element ${at()}`);
      pos += m[0].length;
    } else {
      const m = /^<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(pos));
      if (!m) throw new Error(`a malformed tag ${at()}`);
      const attrs: Record<string, string> = {};
      for (const a of m[2]!.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = decode(a[2] ?? a[3] ?? '', at);
      const element: XmlElement = { name: m[1]!, attrs, children: [], text: '' };
      if (stack.length) stack[stack.length - 1]!.children.push(element);
      else if (root) throw new Error(`a second root element ${at()}`);
      else root = element;
      if (!m[3]) stack.push(element);
      pos += m[0].length;
    }
  }
  if (stack.length) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

/** The children of an element with this local name. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => localName(c.name) === name);
}

export function childNamed(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => localName(c.name) === name);
}
