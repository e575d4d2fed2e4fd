export { createSourceRoutes } from "./sources.routes.ts";
export * from "./sources.schemas.ts";
export {
  addSource,
  dueSources,
  listSources,
  recordFetchFailure,
  recordFetchSuccess,
  removeSource,
  type Source,
  toSourceView,
} from "./sources.service.ts";
