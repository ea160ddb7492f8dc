// Reading an upload form, shared by the raise-request form and the attachment form.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import type { SpoolRefusal, SpoolReservation } from '../../common/pool/upload-spool-budget.js';
import { pageStartsOver } from '../atlassian/page-budget.js';
import { noteClientAborted } from '../client-aborted.js';
import { formRefusedUnread, readMultipart } from '../http/multipart.js';
import type { SpoolBusy } from '../http/upload-spool.js';
import { translatorOf } from '../i18n.js';
import { problemText } from '../pages/refusals.js';
import type { PortalServices } from '../services.js';
import type { PortalWeb } from '../web.js';

export type UploadForm = Awaited<ReturnType<typeof readMultipart>>;

/** How long a customer is asked to wait when every upload slot is taken. */
const BUSY_RETRY_AFTER_SECONDS = 5;

type UploadServices = Pick<
  PortalServices,
  'uploads' | 'uploadSpoolShare' | 'maxUploadBytes' | 'telemetry' | 'logger' | 'sessions'
>;

/** `res.locals` key of the promise that the upload route's handler has returned (`uploadRoute`). */
const HANDLER_DONE = 'uploadHandlerDone';

/**
 * An upload form's route handler, run so that `readUploadForm` knows when it is done: the form's
 * files are read until then (sent on to Atlassian), even when the client went away meanwhile, so
 * they, their slot and their room stay until the handler has returned as well as the answer ended
 * (ADR 0250): a client leaving must not free a slot whose files are still open on the disk.
 */
export function uploadRoute(
  handler: (req: Request, res: Response, next: NextFunction) => Promise<void>,
): RequestHandler {
  return async (req, res, next) => {
    let done = () => {};
    res.locals[HANDLER_DONE] = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await handler(req, res, next);
    } finally {
      done();
    }
  };
}

/**
 * Takes an upload spool slot (and, in a pool, room in the pool's spool) and reads the multipart form
 * into it (its Origin was checked before the session was read: `web.originFirst`, ADR 0262). The
 * slot and the room are released when the response has ended and the handler (an `uploadRoute`)
 * returned, whatever happens in between, and the files removed then (the slot does not wait for that,
 * ADR 0250). Answers the request itself and returns undefined when it refuses: every slot of the
 * tenant taken (503 with Retry-After, PORTAL_UPLOADS_BUSY), as many ended forms' folders still being
 * removed (the same, PORTAL_UPLOAD_REMOVALS_BEHIND), the tenant's share of the pool's spool held (503
 * with Retry-After, PORTAL_POOL_SHARE_UPLOADS_BUSY), no room in the pool's spool (503 with
 * Retry-After, PORTAL_POOL_UPLOADS_BUSY), a refused form (413/415), a session that ended while its
 * body was read (401, ADR 0447); and when the client went away before or while its body was read
 * (nothing to answer; its partial files are gone with the slot).
 * Nothing of a refused body is spooled: the refusals come before it is read.
 */
export async function readUploadForm(
  web: PortalWeb,
  services: UploadServices,
  req: Request,
  res: Response,
  maxFiles: number,
): Promise<UploadForm | undefined> {
  const handlerDone = res.locals[HANDLER_DONE] as Promise<void> | undefined;
  if (!handlerDone) throw new Error('readUploadForm needs its route handler run as an uploadRoute');
  // Gone while the route read what it needed first (Atlassian): the connection is closed, its body
  // dropped unread. No slot is taken: nothing would read into it, and no close would give it back.
  if (req.destroyed) {
    noteClientAborted(services, 'upload abandoned by the client before it was read');
    return undefined;
  }
  const limits = { maxFileBytes: services.maxUploadBytes, maxFiles };
  const unread = formRefusedUnread(req, limits);
  if (unread) {
    refuseForm(web, res, unread);
    return undefined;
  }
  // The tenant's own limit first: a tenant at its limit is told so without touching the pool's room.
  const slot = services.uploads.tryAcquire();
  if ('refused' in slot) return refuseBusy(web, req, res, slot.refused);
  const poolRoom = reservePoolRoom(services, req, maxFiles);
  if ('refused' in poolRoom) {
    await slot.release();
    return refuseBusy(web, req, res, poolRoom.refused);
  }
  let read = false;
  res.once('close', () => {
    // A client gone mid-body is noted where its reading ends; one gone while its form is sent on, here.
    if (read && !res.writableFinished) noteClientAborted(services, 'upload answer abandoned by the client');
    void handlerDone.then(() => {
      poolRoom.release();
      return slot.release();
    });
  });
  try {
    const form = await readMultipart(req, limits, slot);
    read = true;
    // The body may have taken minutes: a session signed out or ended by an admin meanwhile writes
    // nothing with it, as a form sent after its session ended (ADR 0447).
    if (!(await services.sessions.get(web.session(res).id))) {
      delete res.locals['session'];
      web.formAfterSessionEnded(req, res);
      return undefined;
    }
    // The form took the customer's time; what follows is the page's Atlassian work (ADR 0362).
    pageStartsOver();
    return form;
  } catch (err) {
    if (err instanceof JsmSsoError && err.code === 'PORTAL_CLIENT_ABORTED') {
      noteClientAborted(services, 'upload abandoned by the client');
      return undefined;
    }
    if (err instanceof JsmSsoError) {
      refuseForm(web, res, err);
      return undefined;
    }
    throw err;
  }
}

function refuseForm(web: PortalWeb, res: Response, err: JsmSsoError): void {
  const i18n = translatorOf(res);
  web.refuse(res, err.status, err.code, i18n.t('error.uploadRefused.title'), problemText(i18n, err));
}

/**
 * Room for this form in the tenant's share of the pool's spool, or why there is none; nothing to give
 * back outside a pool. A form reserves what its files may put on disk:
 * no more than its body (Content-Length; the files are part of it, and Node reads no byte past it),
 * nor than its files at this tenant's limit (a chunked body declares no length).
 */
function reservePoolRoom(services: UploadServices, req: Request, maxFiles: number): SpoolReservation {
  const share = services.uploadSpoolShare;
  if (!share) return { release: () => {} };
  const filesBound = maxFiles * services.maxUploadBytes;
  const declared = Number(req.headers['content-length']);
  return share.tryReserve(Number.isSafeInteger(declared) ? Math.min(declared, filesBound) : filesBound);
}

function refuseBusy(web: PortalWeb, req: Request, res: Response, code: SpoolBusy | SpoolRefusal): undefined {
  req.resume();
  res.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
  const { t } = translatorOf(res);
  web.refuse(
    res,
    503,
    code,
    t('error.uploadsBusy.title'),
    t('error.uploadsBusy', { seconds: BUSY_RETRY_AFTER_SECONDS }),
  );
  return undefined;
}
