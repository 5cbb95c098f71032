import { Hono } from 'hono';
import { dial } from '../services/freeswitch.js';

export const voice = new Hono();
voice.post('/dial/:number', (c) => c.json(dial(c.req.param('number'))));
voice.get('/report', async (c) => {
  // Loaded on first use only: a fault in it shows when this runs, not at start.
  const { nightlyReport } = await import('../jobs/nightly.js');
  return c.json(nightlyReport());
});
