// Dormant: nothing imports this file. It was written against an old Hono API and would crash if loaded.
import { Router } from 'hono';

export const signup = Router();
