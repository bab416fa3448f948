import { createRequire } from 'node:module';

type XsltProcessorModule = typeof import('xslt-processor');

let loaded: XsltProcessorModule | undefined;

/**
 * xslt-processor, loaded at its first use rather than with domforge: a node controller
 * whose transforms compile and render in a sandbox worker never loads it in its own process
 * (about 2.3 MiB resident). Loaded synchronously through its CommonJS build, as the
 * compilers that need it are synchronous; every use in domforge goes through here, so the
 * corrections of processor-patches.ts apply to the one copy that runs.
 */
export function xsltProcessor(): XsltProcessorModule {
  return (loaded ??= createRequire(import.meta.url)('xslt-processor') as XsltProcessorModule);
}
