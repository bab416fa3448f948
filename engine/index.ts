export * from './errors.js';
export { parseXml, pathOf } from './xml/parse.js';
export { diffXml, xmlEqual, DONTCARE, type XmlDifference, type CompareOptions } from './xml/compare.js';
export { writeFileAtomic } from './fs/atomic-write.js';
