import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (MASTER_PORT of the distributed tests and benches). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}
