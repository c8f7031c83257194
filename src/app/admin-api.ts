/**
 * Operator read API (Bearer ADMIN_API_KEY): live calls and one call with its ordered transcript.
 * Contract: ../shared/CONTRACT.md "HTTP and WebSocket endpoints".
 */
import { Router } from 'express';
import type { CallRegistry } from '../call/registry';
import { requireAdmin } from './admin-auth';

export function adminRouter(adminKey: string, registry: CallRegistry): Router {
  const r = Router();
  r.use('/api', requireAdmin(adminKey));
  r.get('/api/calls/active', (_req, res) => {
    const calls = registry.active();
    res.json({ count: calls.length, calls });
  });
  r.get('/api/calls/:callSid', (req, res) => {
    const call = registry.find(req.params.callSid);
    if (!call) {
      res.status(404).json({ error: 'not_found', message: `no call ${req.params.callSid}` });
      return;
    }
    res.json(call);
  });
  return r;
}
