import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Keeps at most `max` keep-alive connections idle (every answer on them sent, no request being read)
 * at once: past that, the one idle longest is closed. The idle timeout is longer than an ingress's
 * (ADR 0202), so without a bound in number a client could hold a socket per request for that long; an
 * ingress's own pool stays far below the bound, so the race a part's close runs with an ingress's
 * next request is left to a server under such a flood.
 */
export function boundIdleConnections(server: Server, max: number, onClosed: () => void): void {
  // A Set iterates in insertion order: its first entry has been idle longest.
  const idle = new Set<Socket>();
  const answering = new WeakMap<Socket, number>();
  const watched = new WeakSet<Socket>();
  server.on('request', (req, res) => {
    const socket = req.socket;
    idle.delete(socket);
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.once('close', () => idle.delete(socket));
    }
    res.once('close', () => {
      const left = (answering.get(socket) ?? 1) - 1;
      answering.set(socket, left);
      // Not writable: closing after this answer (Connection: close, HTTP/1.0), never idle.
      if (left > 0 || !socket.writable) return;
      idle.add(socket);
      for (const oldest of idle) {
        if (idle.size <= max) break;
        idle.delete(oldest);
        oldest.destroy();
        onClosed();
      }
    });
  });
}
