import { join } from 'node:path';
import type { HookContext } from './environment.js';
import type { HookEvent } from './events.js';
import { runFilters, type FiltersReport, type RunFiltersOptions } from './run-filters.js';
import { runHooks, validateLimits, type HooksReport, type ProcessLimits, type RunHooksOptions } from './run-hooks.js';
import { expectString } from '../option-checks.js';

export interface HookRunnerConfig extends ProcessLimits {
  /** The hooks folder (e.g. `/etc/domforge/hooks`). */
  dir: string;
  /** The XML filters folder (default `<dir>/filters.d`). */
  filtersDir?: string;
  /** Eucalyptus's HOME argument. */
  home: string;
  /** The libvirt URI, passed as `DOMFORGE_URI`. */
  uri?: string;
}

/** Per-call options: the instance context, and any limit overriding the runner's. */
export type HookCallOptions = HookContext & ProcessLimits & { param?: string };
export type FilterCallOptions = HookContext &
  ProcessLimits &
  Pick<RunFiltersOptions, 'validate' | 'maxOutputBytes' | 'diffLabels'> & { instanceId: string; event: HookEvent };

/** runHooks and runFilters with the folder, home, URI and limits configured once. */
export interface HookRunner {
  readonly config: Readonly<HookRunnerConfig>;
  run(event: HookEvent, options?: HookCallOptions): Promise<HooksReport>;
  filter(xml: string, options: FilterCallOptions): Promise<FiltersReport>;
}

export function createHookRunner(config: HookRunnerConfig): HookRunner {
  expectString('dir', config?.dir, { optional: false });
  expectString('home', config.home, { optional: false });
  expectString('filtersDir', config.filtersDir);
  expectString('uri', config.uri, { nonEmpty: false });
  validateLimits(config);
  const frozen = Object.freeze({ ...config });
  const { dir, filtersDir, home, ...limits } = frozen;
  return {
    config: frozen,
    run: (event, options = {}) => runHooks(event, { ...limits, ...options, dir, home } as RunHooksOptions),
    filter: (xml, options) => runFilters(xml, { ...limits, ...options, dir: filtersDir ?? join(dir, 'filters.d') }),
  };
}
