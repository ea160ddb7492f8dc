/**
 * Whether one of the app's routes takes a request, asked of the router's own table so that no list of
 * routes is kept twice: a route's layer matches a path as the router does (letter case ignored, ADR
 * 0306; one trailing slash, ADR 0309; parameters decoded) and its route says which methods it takes.
 */
import type { Router } from 'express';

/** What the router (the `router` package under Express 5) keeps of a route: the parts read here. */
interface RouteLayer {
  route?: { _handlesMethod(method: string): boolean };
  match(path: string): unknown;
}

/**
 * Whether a route of `router` takes `method` at `path` (the request's path, as the router reads it).
 * A path whose parameter does not decode is taken by none: the router answers it the 404 page too.
 */
export function routeTakes(router: Router, method: string, path: string): boolean {
  return (router.stack as unknown as RouteLayer[]).some(
    (layer) => layer.route?._handlesMethod(method) === true && matches(layer, path),
  );
}

function matches(layer: RouteLayer, path: string): boolean {
  try {
    return layer.match(path) !== false;
  } catch (err) {
    if (err instanceof URIError) return false;
    throw err;
  }
}
