import { passengerQuestions } from './passenger-questions.js';

/** Crew or station staff register riders without phones, one after another, from their own WeChat. */
export const assistedFlow = {
  id: 'assisted',
  version: 1,
  triggers: [{ command: ['协助登记', 'assist'], arg: { parse: 'tripCode', field: 'tripCode' } }],
  restartAt: 'name',
  steps: [
    { id: 'requireStaff', kind: 'action', action: 'requireStaff', on: { forbidden: 'notStaff' } },
    { id: 'loadTrip', kind: 'action', action: 'loadTrip', on: { not_found: 'tripNotFound', closed: 'tripClosed' } },
    { id: 'privacyTold', kind: 'choice', prompt: 'assisted.privacyTold.prompt', options: [{ value: '1' }] },
    ...passengerQuestions('assisted', { phoneOptional: true, matchPreregistration: false }),
    { id: 'next', kind: 'choice', prompt: 'assisted.next', options: [{ value: '1', reset: true, next: 'name' }, { value: '2', end: 'assisted.finished' }] },
    { id: 'alreadyRegistered', kind: 'message', prompt: 'assisted.alreadyRegistered', next: 'next' },
    { id: 'notStaff', kind: 'message', prompt: 'staff.notEnrolled', end: true },
    { id: 'tripNotFound', kind: 'message', prompt: 'passenger.tripNotFound', end: true },
    { id: 'tripClosed', kind: 'message', prompt: 'passenger.tripClosed', end: true },
  ],
} as const;
