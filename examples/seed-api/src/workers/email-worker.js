// A second process PM2 runs beside the API.
import 'dotenv/config';
import Redis from 'ioredis';
import { sendEmail } from '../services/email.js';

const queue = new Redis(process.env.REDIS_URL);
const interval = Number(process.env.EMAIL_WORKER_INTERVAL_MS ?? 60000);
setInterval(() => sendEmail('scheduled').then(() => queue.incr('sent')), interval);
console.log('email worker started');
