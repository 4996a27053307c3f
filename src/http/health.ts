import { Router } from 'express';
import mongoose from 'mongoose';
import { type KeyRing, publicJwks } from '../auth/keys';

/** `/healthz` (process alive), `/readyz` (database reachable) and the public signing keys. */
export function operationalRoutes(keys: KeyRing): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ready = await databaseReachable();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable' });
  });
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=300').json(publicJwks(keys));
  });
  return router;
}

async function databaseReachable(): Promise<boolean> {
  const connection = mongoose.connection;
  if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
  try {
    await connection.db.admin().command({ ping: 1 }, { timeoutMS: 1000 });
    return true;
  } catch {
    return false;
  }
}
