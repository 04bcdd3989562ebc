// One integer app setting: coerced from its string, whole, within min..max (default: positive), with a default.
import { z } from 'zod';

export const intSetting = (def: number, min = 1, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
