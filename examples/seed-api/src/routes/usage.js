import { Hono } from 'hono';
import { query } from '../db/connection.js';

export const usage = new Hono();
usage.get('/', (c) => {
  const rows = query('usage');
  return c.json({ total: rows.length, rows };
});
