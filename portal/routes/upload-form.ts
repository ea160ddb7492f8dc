// Reading an upload form, shared by the raise-request form and the attachment form.
import type { Request, Response } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import { readMultipart } from '../http/multipart.js';
import { translatorOf } from '../i18n.js';
import { problemText } from '../pages/refusals.js';
import type { PortalServices } from '../services.js';
import type { PortalWeb } from '../web.js';

export type UploadForm = Awaited<ReturnType<typeof readMultipart>>;

/** A client that went away mid-transfer: no fault, so no error and no alert; counted and noted. */
export function noteClientAborted(
  services: Pick<PortalServices, 'telemetry' | 'logger'>,
  message: string,
): void {
  services.telemetry.clientAborted();
  services.logger.info({ event: 'portal.client_aborted', reason: 'PORTAL_CLIENT_ABORTED' }, message);
}

/** How long a customer is asked to wait when every upload slot is taken. */
const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * Checks the Origin, takes an upload spool slot and reads the multipart form into it. The slot and
 * its files are released when the response ends, whatever happens in between. Answers the request
 * itself and returns undefined when it refuses: cross-site (403), every slot taken (503 with
 * Retry-After, PORTAL_UPLOADS_BUSY), a refused form (413/415); and when the client went away
 * mid-body (nothing to answer; its partial files are gone with the slot).
 */
export async function readUploadForm(
  web: PortalWeb,
  services: Pick<PortalServices, 'uploads' | 'maxUploadBytes' | 'telemetry' | 'logger'>,
  req: Request,
  res: Response,
  maxFiles: number,
): Promise<UploadForm | undefined> {
  if (!web.originOk(req, res)) {
    req.resume();
    return undefined;
  }
  const slot = services.uploads.tryAcquire();
  if (!slot) {
    req.resume();
    res.setHeader('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
    const { t } = translatorOf(res);
    web.refuse(
      res,
      503,
      'PORTAL_UPLOADS_BUSY',
      t('error.uploadsBusy.title'),
      t('error.uploadsBusy', { seconds: BUSY_RETRY_AFTER_SECONDS }),
    );
    return undefined;
  }
  res.once('close', () => void slot.release());
  try {
    return await readMultipart(req, { maxFileBytes: services.maxUploadBytes, maxFiles }, slot);
  } catch (err) {
    if (err instanceof JsmSsoError && err.code === 'PORTAL_CLIENT_ABORTED') {
      noteClientAborted(services, 'upload abandoned by the client');
      return undefined;
    }
    if (err instanceof JsmSsoError) {
      const i18n = translatorOf(res);
      web.refuse(res, err.status, err.code, i18n.t('error.uploadRefused.title'), problemText(i18n, err));
      return undefined;
    }
    throw err;
  }
}
