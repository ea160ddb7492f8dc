import type { Redis } from 'ioredis';
import { answeredWithin } from './command-deadline.js';

/**
 * The socket each connection's last readiness PING went out on, while that PING is unanswered: a
 * connection that has not answered it by the next probe has been silent for a probe's interval, and
 * is still down (its pending PING would otherwise make it look busy). Reconnected, the entry no longer
 * matches its socket.
 */
const unansweredPings = new WeakMap<Redis, unknown>();

/**
 * Whether a one-time markers' connection can take a marker now (ADRs 0302, 0310). Down (dropped,
 * reconnecting, its ready check not passed): no. Busy (markers sent and not yet answered): yes, judged
 * by its state only, since a PING would queue behind WAITs that may each take up to 200 ms while a
 * replica lags, and miss the probe's deadline on every pod at once; a busy connection whose peer is
 * gone is dropped by its socket timeout. Idle: a PING, which nothing queues ahead of, so an idle
 * connection whose peer vanished without a FIN or a RST (a NAT or load balancer that forgot it) is
 * found by the probe, and dropped and made anew by the same socket timeout, not by a sign-in's marker.
 */
export async function markersConnectionAnswers(markers: Redis, deadlineMs: number): Promise<void> {
  if (markers.status !== 'ready')
    throw new Error(`the one-time markers' connection is ${markers.status}, not ready`);
  const stream = markers.stream;
  if (unansweredPings.get(markers) === stream)
    throw new Error("the one-time markers' connection has not answered the last probe's PING");
  if (markers.commandQueue.length > 0) return;
  unansweredPings.set(markers, stream);
  const ping = markers.ping().then(() => {
    if (unansweredPings.get(markers) === stream) unansweredPings.delete(markers);
  });
  await answeredWithin(ping, deadlineMs);
}
