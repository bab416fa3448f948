/**
 * The `handlebars` package, loaded when the first template is compiled rather than when
 * domforge is imported. A controller that renders XSLT, or renders in a sandbox worker,
 * never needs it: importing domforge's package root without it takes about 3.5 MiB less
 * resident memory (64.1–64.6 against 67.2–67.8 MiB, `node --max-semi-space-size=4`,
 * measured three times each). The package is CommonJS, so it loads synchronously here and
 * `compileHandlebars` stays a plain function.
 */
import { createRequire } from 'node:module';
import type HandlebarsModule from 'handlebars';

export type HandlebarsLibrary = typeof HandlebarsModule;

type LogSink = (level: unknown, message: string) => void;

const requireHere = createRequire(import.meta.url);
let library: HandlebarsLibrary | undefined;
let sink: LogSink | undefined;

/**
 * The package, loaded once. Its shared logger ("Access has been denied to resolve the
 * property ..." when a template reaches for an inherited property) is routed to the sink
 * of the render under way (see setLogSink), and to the original logger only outside one.
 */
export function handlebarsLibrary(): HandlebarsLibrary {
  if (library) return library;
  const loaded = requireHere('handlebars') as HandlebarsLibrary;
  const original = loaded.logger.log.bind(loaded.logger) as (level: unknown, ...message: unknown[]) => void;
  loaded.logger.log = ((level: unknown, ...message: unknown[]) => {
    if (sink) sink(level, message.map(String).join(' '));
    else original(level, ...message);
  }) as typeof loaded.logger.log;
  library = loaded;
  return loaded;
}

/** Routes Handlebars' shared logger to `next` (rendering is synchronous, so one sink serves); returns the sink it replaces. */
export function setLogSink(next: LogSink | undefined): LogSink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}
