// A second process PM2 runs beside the API.
import { sendEmail } from '../services/email.js';

const interval = Number(process.env.EMAIL_WORKER_INTERVAL_MS ?? 60000);
setInterval(() => sendEmail('scheduled'), interval);
console.log('email worker started');
