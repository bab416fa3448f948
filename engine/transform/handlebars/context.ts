/**
 * The data a Handlebars template renders: the typed input under its own name, which
 * input it is, and the transform parameters. the README's Handlebars section describes the shape.
 */
import { parseXml } from '../../xml/parse.js';
import { parseInstance } from '../../instance/parse.js';
import { parseStub, type NicStub, type VolumeStub } from '../../instance/stubs.js';
import type { Instance } from '../../instance/model.js';
import type { TransformInput, TransformParams } from '../types.js';
import { checkTransformParams } from '../params.js';

export interface TemplateContext {
  /** Which entry point: the whole domain, or one device to hot-plug. */
  input: 'instance' | 'nic' | 'volume';
  /** The parsed instance.xml (when `input` is `instance`). */
  instance?: Instance;
  /** The parsed `eni-XXXX.xml` stub (when `input` is `nic`). */
  nic?: NicStub;
  /** The parsed `vol-XXXX.xml` stub (when `input` is `volume`). */
  volume?: VolumeStub;
  /** `--param name=value` pairs, as strings. */
  params: TransformParams;
}

/** Builds the context from what the pipeline already parsed, parsing only what it lacks. */
export function buildContext(input: TransformInput, params: TransformParams): TemplateContext {
  checkTransformParams(params);
  const p = { ...params };
  if (input.instance) return { input: 'instance', instance: input.instance, params: p };
  if (input.stub) return stubContext(input.stub as ReturnType<typeof parseStub>, p);
  const doc = input.document ?? parseXml(input.xml, { file: input.file });
  if (doc.documentElement?.nodeName === 'instance') return { input: 'instance', instance: parseInstance(input.xml, { file: input.file, document: doc }), params: p };
  return stubContext(parseStub(input.xml, { file: input.file, document: doc }), p);
}

function stubContext(stub: { kind: 'nic'; data: NicStub } | { kind: 'volume'; data: VolumeStub }, params: TransformParams): TemplateContext {
  return stub.kind === 'nic' ? { input: 'nic', nic: stub.data, params } : { input: 'volume', volume: stub.data, params };
}
