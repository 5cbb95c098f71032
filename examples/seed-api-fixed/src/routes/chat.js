import { Hono } from 'hono';
import { listMessages } from '../services/chat.js';

export const chat = new Hono();
chat.get('/', (c) => c.json(listMessages()));
