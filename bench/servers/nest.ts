import { type Server } from 'node:http';
import { childOptions, serveChild } from './child';

/** What `bench/peers/nest/src/main.ts` exports (a package of its own, not type-checked here). */
interface NestPeer {
  createNestServer(options: { dbName: string }): Promise<Server>;
}

/**
 * The NestJS peer as a server under test. Which secret form its JWT strategy uses comes from
 * BENCH_NEST_SECRET (`key` or `string`), set by the parent like the rest of its environment.
 */
serveChild(async () => {
  const options = childOptions();
  if (!options.peerEntry) throw new Error('the nest child needs the peerEntry option');
  const peer = (await import(options.peerEntry)) as NestPeer;
  return { server: await peer.createNestServer({ dbName: options.dbName ?? 'bench' }) };
});
