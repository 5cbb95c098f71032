import { Hono } from 'hono';
import { query } from '../db/connection.js';
import { sendEmail } from '../services/email.js';

export const campaigns = new Hono();
campaigns.get('/', (c) => c.json(query('campaigns')));
campaigns.post('/:id/send', async (c) => c.json(await sendEmail(c.req.param('id'))));
