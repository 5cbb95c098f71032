import { Hono } from 'hono';
import { query } from '../config/database.js';
import { sendEmail } from '../services/Email.js';

export const campaigns = new Hono();
campaigns.get('/', (c) => c.json(query('campaigns')));
campaigns.post('/:id/send', async (c) => c.json(await sendEmail(c.req.param('id'))));
