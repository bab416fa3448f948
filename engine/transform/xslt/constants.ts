export const XSL_NS = 'http://www.w3.org/1999/XSL/Transform';

/** Every element XSLT 1.0 defines. */
export const XSLT10_ELEMENTS = new Set([
  'apply-imports', 'apply-templates', 'attribute', 'attribute-set', 'call-template', 'choose', 'comment', 'copy',
  'copy-of', 'decimal-format', 'element', 'fallback', 'for-each', 'if', 'import', 'include', 'key', 'message',
  'namespace-alias', 'number', 'otherwise', 'output', 'param', 'preserve-space', 'processing-instruction', 'sort',
  'strip-space', 'stylesheet', 'template', 'text', 'transform', 'value-of', 'variable', 'when', 'with-param',
]);

/** Attributes that hold an XPath expression or pattern. */
export const XPATH_ATTRIBUTES: Record<string, string[]> = {
  'apply-templates': ['select'],
  'copy-of': ['select'],
  'for-each': ['select'],
  if: ['test'],
  when: ['test'],
  'value-of': ['select'],
  variable: ['select'],
  param: ['select'],
  'with-param': ['select'],
  sort: ['select'],
  key: ['use'],
  number: ['value'],
};
