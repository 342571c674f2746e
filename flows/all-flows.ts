import { assistedFlow } from './assisted.js';
import { driverFlow } from './driver.js';
import { passengerFlow } from './passenger.js';
import { enrollFlow, smsInviteFlow, verifyFlow } from './staff.js';

/** Every flow the engine loads, in trigger priority order (commands before plain-text matches). */
export const ALL_FLOWS: readonly unknown[] = [enrollFlow, smsInviteFlow, assistedFlow, verifyFlow, driverFlow, passengerFlow];
