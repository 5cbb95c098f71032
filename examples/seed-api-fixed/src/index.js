// The API server: the entry PM2 starts (see ecosystem.config.cjs).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { routes } from './routes/index.js';
import { VERSION } from './version.js';

const app = new Hono();
app.route('/', routes);

const port = Number(process.env.PORT ?? 3000);
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => {
  console.log(`seed-api ${VERSION} listening on ${info.port}`);
});
