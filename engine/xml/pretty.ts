import { parseXml, NODE, type Element, type Node } from './parse.js';
import { escapeAttr, escapeText } from './serialize.js';

/**
 * Re-indents an XML document two spaces a level, one element per line, dropping
 * whitespace-only text between elements and keeping every other text, attribute order,
 * comments and processing instructions. Used to diff libvirt XML written by different
 * tools (xsltproc, libvirt, domforge) line by line.
 */
export function prettyXml(xml: string, file?: string): string {
  const doc = parseXml(xml, { file, forbidDoctype: false });
  const out: string[] = [];
  for (let n = doc.firstChild; n; n = n.nextSibling) write(n, 0, out);
  return out.join('\n') + '\n';
}

function write(n: Node, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  switch (n.nodeType) {
    case NODE.ELEMENT: {
      const el = n as Element;
      let open = `<${el.nodeName}`;
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes.item(i)!;
        open += ` ${a.name}="${escapeAttr(a.value)}"`;
      }
      const kids: Node[] = [];
      for (let c = el.firstChild; c; c = c.nextSibling) {
        if ((c.nodeType === NODE.TEXT || c.nodeType === NODE.CDATA) && !(c.nodeValue ?? '').trim()) continue;
        kids.push(c);
      }
      if (kids.length === 0) out.push(`${pad}${open}/>`);
      else if (kids.every((c) => c.nodeType === NODE.TEXT || c.nodeType === NODE.CDATA)) {
        out.push(`${pad}${open}>${escapeText(kids.map((c) => c.nodeValue ?? '').join(''))}</${el.nodeName}>`);
      } else {
        out.push(`${pad}${open}>`);
        for (const c of kids) write(c, depth + 1, out);
        out.push(`${pad}</${el.nodeName}>`);
      }
      return;
    }
    case NODE.TEXT:
    case NODE.CDATA: {
      const t = (n.nodeValue ?? '').trim();
      if (t) out.push(pad + escapeText(t));
      return;
    }
    case NODE.COMMENT:
      out.push(`${pad}<!--${n.nodeValue}-->`);
      return;
    case NODE.PI:
      out.push(`${pad}<?${n.nodeName} ${n.nodeValue}?>`);
      return;
    default:
      return;
  }
}
