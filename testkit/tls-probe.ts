import { X509Certificate } from 'node:crypto';
import { type AddressInfo, createServer, connect as tcpConnect } from 'node:net';
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

/** The first bytes Node's TLS client sends naming `servername`: a real ClientHello, for replaying slowly. */
export function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    });
    catcher.once('error', reject);
    catcher.listen(0, '127.0.0.1', () => {
      const { port } = catcher.address() as AddressInfo;
      connect({ host: '127.0.0.1', port, servername }).on('error', () => undefined);
    });
  });
}

/**
 * A TLS client that never finishes its handshake: it connects to 127.0.0.1:`port` and sends `hello`
 * one byte every `byteEveryMs` (nothing without it). Says how long the server kept the connection
 * open (ms); at `giveUpMs` the client closes it itself and reports that.
 */
export function heldHandshake(
  port: number,
  options: { giveUpMs: number; hello?: Buffer; byteEveryMs?: number },
): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const { hello } = options;
    let sent = 0;
    const trickle =
      hello &&
      setInterval(() => {
        if (sent < hello.length) socket.write(hello.subarray(sent, ++sent));
      }, options.byteEveryMs ?? 100);
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      resolve(performance.now() - started);
    });
  });
}
