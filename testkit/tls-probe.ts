import { X509Certificate } from 'node:crypto';
import { type ConnectionOptions, connect } from 'node:tls';

export type ProbeResult =
  | { ok: true; protocol: string; serial: string }
  | { ok: false; code: string; message: string };

/**
 * One TLS handshake to 127.0.0.1:`port` with the given client settings; reports the negotiated
 * protocol and the served leaf's serial, or the handshake error's code. Never throws.
 */
export function probeTls(port: number, options: ConnectionOptions = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerX509Certificate?.() ?? new X509Certificate(socket.getPeerCertificate().raw);
      resolve({ ok: true, protocol: socket.getProtocol() ?? '', serial: raw.serialNumber });
      socket.end();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, code: err.code ?? '', message: err.message });
      socket.destroy();
    });
  });
}

/** Client settings that offer only TLS 1.0 and 1.1, with every cipher allowed, so a refusal is the server's. */
export const LEGACY_CLIENT: ConnectionOptions = {
  minVersion: 'TLSv1',
  maxVersion: 'TLSv1.1',
  ciphers: 'DEFAULT@SECLEVEL=0',
};

/**
 * Connects over TLS 1.2 (TLS 1.3 has no renegotiation at all) naming `servername`, then asks for a
 * renegotiation: `closed` or `error` when the server refuses it, `renegotiated` when it allowed it.
 */
export async function renegotiationOutcome(port: number, servername: string, ca: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername, ca, maxVersion: 'TLSv1.2' });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const outcome = await new Promise<string>((resolve) => {
    socket.once('close', () => resolve('closed'));
    socket.once('error', () => {});
    const started = socket.renegotiate({}, (err) => resolve(err ? 'error' : 'renegotiated'));
    if (!started) resolve('not started');
    // Data on the connection drives the new handshake to the server.
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${servername}\r\n\r\n`);
  });
  socket.destroy();
  return outcome;
}
