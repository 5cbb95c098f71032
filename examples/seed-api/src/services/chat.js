import { query } from '../db/connection.js';

export function listMessages() {
  return query('messages');
}
