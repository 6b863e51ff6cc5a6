import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * Routes that only some requests can match, behind one cheap test of the
 * request. Express tries each layer of a router in turn, running its path
 * pattern, on every request that reaches it: the two dozen special routes
 * (record life, export, `$everything`, Binary, conformance reads) would
 * otherwise cost every read, search and `$validate` a pattern match each
 * before the route that answers it. The group's own routes keep their order,
 * and a request the group does not answer goes on to the next layer.
 * @see https://expressjs.com/en/5x/api.html#router
 */
export function routeGroup(applies: (req: Request) => boolean, add: (group: Router) => void): RequestHandler {
  const group = Router({ caseSensitive: true, strict: false });
  add(group);
  return onlyWhen(applies, group);
}

/** `handler` for the requests `applies` accepts; every other request goes on to the next layer untouched. */
export function onlyWhen(applies: (req: Request) => boolean, handler: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (applies(req)) {
      void handler(req, res, next);
    } else {
      next();
    }
  };
}
