import { Hono } from 'hono';
import { health } from './health.js';
import { campaigns } from './campaigns.js';
import { chat } from './chat.js';
import { voice } from './voice.js';

export const routes = new Hono();
routes.route('/health', health);
routes.route('/v1/campaigns', campaigns);
routes.route('/v1/chat', chat);
routes.route('/v1/voice', voice);
