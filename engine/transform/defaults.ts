import { fileURLToPath } from 'node:url';

/** The folder of transforms shipped with domforge (`transforms/` at the package root). */
export function shippedTransformsDir(): string {
  // This file runs from dist/engine/transform/ (built) — three levels below the package root.
  return fileURLToPath(new URL('../../../transforms/', import.meta.url));
}

/** The sample instances shipped with domforge (`samples/` at the package root): the default proving set, the host check's instance. */
export function shippedSamplesDir(): string {
  return fileURLToPath(new URL('../../../samples/', import.meta.url));
}

/** The transform used when none is given: `$DOMFORGE_TRANSFORM`, else the shipped `transforms/libvirt.xsl`. */
export function defaultTransformPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOMFORGE_TRANSFORM || shippedTransformsDir() + 'libvirt.xsl';
}
