// Request type icons as Atlassian serves them: the URLs in a request type's `icon._links.iconUrls`
// point at Jira's avatar viewer under /rest/api/2 (type SD_REQTYPE), which neither vendored spec
// documents (the platform spec's viewer lists issuetype, project and priority). Signed-in callers
// only, as on a real site; the image is a small SVG drawn from the icon id.
import { Router } from 'express';
import { ApiError } from '../http.js';

/** The icon ids the emulator hands out (portal request types): 10500 + type id modulo 20. */
export const REQUEST_TYPE_ICON_IDS = { first: 10500, count: 20 } as const;

const GLYPHS = ['?', '!', '+', '#', '*', '@', '%', '&'];

function iconSvg(id: number): string {
  const n = id - REQUEST_TYPE_ICON_IDS.first;
  const hue = (n * 47) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="hsl(${hue} 60% 42%)"/><text x="24" y="33" font-family="sans-serif" font-size="26" font-weight="700" text-anchor="middle" fill="#fff">${GLYPHS[n % GLYPHS.length]}</text></svg>`;
}

export function avatarRoutes(): Router {
  const r = Router();
  r.get('/universal_avatar/view/type/SD_REQTYPE/avatar/:id', (req, res) => {
    const id = Number(req.params['id']);
    if (
      !Number.isInteger(id) ||
      id < REQUEST_TYPE_ICON_IDS.first ||
      id >= REQUEST_TYPE_ICON_IDS.first + REQUEST_TYPE_ICON_IDS.count
    )
      throw new ApiError(
        404,
        `Avatar ${String(req.params['id'])} does not exist.`,
        'sd.emulator.error.not.found',
      );
    res.type('image/svg+xml').send(iconSvg(id));
  });
  return r;
}
