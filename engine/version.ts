import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version in domforge's package.json (this file runs from dist/engine/, two levels below the package root). */
export function packageVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return cached;
}
