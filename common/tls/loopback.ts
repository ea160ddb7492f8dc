import { isIP } from 'node:net';

/**
 * Loopback hosts, where plain http:// is allowed: traffic to them never leaves the machine (or
 * the pod). Same rule as the CRD's URL validation: localhost, 127.0.0.0/8 and ::1.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
