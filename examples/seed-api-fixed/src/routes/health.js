import { Hono } from 'hono';
import { VERSION } from '../version.js';
import { ping } from '../db/connection.js';

export const health = new Hono();
health.get('/', (c) => c.json({ status: ping() ? 'healthy' : 'degraded', version: VERSION }));
