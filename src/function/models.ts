/**
 * The models one function serves, by name: one ModelService each, so each bundle is loaded, memoised,
 * verified and backed off on its own and a broken bundle never blocks the others. Only the default model
 * is loaded at init (index.ts); the others load on first use, and their first request waits for it.
 */

import { modelNotFound } from './http/problems.ts';
import type { ModelEntry } from './model-list.ts';
import {
  createModelService,
  type LoadedModel,
  type ModelService,
  type ModelServiceOptions,
} from './service.ts';

export interface ModelRegistry {
  readonly defaultName: string;
  /** Configured names, in MODELS order. */
  names(): string[];
  /** The named model's service; throws modelNotFound (404) for a name that is not configured. */
  get(name: string): ModelService;
  default(): ModelService;
  /**
   * For health probes: re-tries every failed model whose back-off has passed, and starts the default
   * model if it is idle. Lazy models nobody asked for stay unloaded. Never waits.
   */
  heal(): void;
}

export type SharedServiceOptions = Omit<ModelServiceOptions, 'modelUri' | 'onLoad'> & {
  /** Told about every load attempt, with the model's name (metrics). */
  onLoad?: (name: string, outcome: { ok: boolean; ms: number }) => void;
};

export function createModelRegistry(
  models: readonly ModelEntry[],
  defaultName: string,
  options: SharedServiceOptions = {},
): ModelRegistry {
  const { onLoad, ...shared } = options;
  const services = new Map<string, ModelService>();
  for (const { name, uri } of models) {
    services.set(
      name,
      createModelService({
        ...shared,
        modelUri: uri,
        ...(onLoad ? { onLoad: (outcome) => onLoad(name, outcome) } : {}),
      }),
    );
  }
  return fromServices(services, defaultName);
}

/** A registry over services made elsewhere (tests that need a service with special behaviour). */
export function fromServices(
  services: ReadonlyMap<string, ModelService>,
  defaultName: string,
): ModelRegistry {
  const get = (name: string): ModelService => {
    const service = services.get(name);
    if (!service) throw modelNotFound(name);
    return service;
  };
  get(defaultName);
  return {
    defaultName,
    names: () => [...services.keys()],
    get,
    default: () => get(defaultName),
    heal: () => {
      for (const [name, service] of services) {
        if (name === defaultName || service.status().state === 'failed') service.warm();
      }
    },
  };
}

/**
 * The loaded model called `name`, or null with the names that are served (for the client's message).
 * Routes that take a model name in their body (POST /feedback) ask here.
 */
export async function servedModel(
  models: ModelRegistry,
  name: string,
): Promise<{ model: LoadedModel | null; served: string[] }> {
  const served = models.names();
  return { model: served.includes(name) ? await models.get(name).get() : null, served };
}
