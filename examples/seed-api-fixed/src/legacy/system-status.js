// Dormant: nothing imports this file; its import points at a config module that no longer exists.
import { redis } from '../config/redis.js';

export const status = () => ({ redis: redis.status });
