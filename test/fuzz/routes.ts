import type Koa from 'koa';
import type Router from '@koa/router';

/**
 * Every route the app serves, read from the routers it mounted (each `router.routes()` middleware
 * carries its router): `GET /api/v1/bindings/:id` and so on. Nested routers are already flattened into
 * their parent's stack with the prefix applied. HEAD (added by Koa for every GET) is left out.
 */
export function mountedRoutes(app: Koa): string[] {
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as unknown as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${layer.path}`);
    }
  }
  return [...routes].sort();
}
