import type { PortalServices } from './services.js';

/**
 * A client that went away mid-transfer (a form or upload before its body was read, a download before
 * its end): no fault, so no error and no alert, and no refusal of anything it sent; counted and noted.
 */
export function noteClientAborted(
  services: Pick<PortalServices, 'telemetry' | 'logger'>,
  message: string,
): void {
  services.telemetry.clientAborted();
  services.logger.info({ event: 'portal.client_aborted', reason: 'PORTAL_CLIENT_ABORTED' }, message);
}
