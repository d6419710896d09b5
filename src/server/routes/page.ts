// GET /: the demo page (src/server/page/index.ts keeps it as a string so it ships in dist/).
import { type Request, type Response, Router } from 'express';
import { PAGE_HTML } from '../page/index.js';

export function pageRoutes(): Router {
  const r = Router();
  r.get('/', (_req: Request, res: Response) => {
    res.type('html').send(PAGE_HTML);
  });
  return r;
}
