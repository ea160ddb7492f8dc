import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP relay in front of a Redis master whose replication links can be held: from hold() on,
 * nothing passes from the master to a replica that connected through it (the link stays up, so
 * "written on the master, not on the replica" is certain rather than a race). A replication link is
 * a connection that sent REPLCONF (a replica's handshake); other clients pass through untouched, so
 * a Redis Cluster master can announce the relay's port to clients and replicas alike.
 */
export async function replicationRelay(masterPort: number) {
  const sockets: Socket[] = [];
  let held = false;
  const server = createServer((client) => {
    const master = connect(masterPort, '127.0.0.1');
    sockets.push(client, master);
    let replica = false;
    client.on('data', (chunk: Buffer) => {
      replica ||= /REPLCONF/i.test(chunk.toString('latin1'));
      master.write(chunk);
    });
    master.on('data', (chunk: Buffer) => {
      if (!(held && replica)) client.write(chunk);
    });
    for (const socket of [client, master])
      socket
        .on('error', () => {})
        .on('close', () => {
          client.destroy();
          master.destroy();
        });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    hold: () => {
      held = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
