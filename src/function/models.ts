/**
 * The models this function serves, looked up by name. Today that is one: the service's model, whose name
 * comes from its manifest. Routes that take a model name (POST /feedback) ask here, so serving several
 * models (MODELS) changes this one function, not the routes.
 */
import type { LoadedModel, ModelService } from './service.ts';

/** The loaded model called `name`, or null with the names that are served (for the client's message). */
export async function servedModel(
  service: ModelService,
  name: string,
): Promise<{ model: LoadedModel | null; served: string[] }> {
  const loaded = await service.get();
  return { model: loaded.manifest.name === name ? loaded : null, served: [loaded.manifest.name] };
}
