import { passengerQuestions } from './passenger-questions.js';

/**
 * Passenger self-registration: a trip QR scan or a 6-digit trip code (or an SMS invitation) → privacy consent →
 * saved details offered to returning riders → the questions → summary → bound to the trip.
 */
export const passengerFlow = {
  id: 'passenger',
  version: 1,
  triggers: [{ scan: true }, { match: 'tripCode', field: 'tripCode' }, { invite: true }],
  restartAt: 'name',
  steps: [
    { id: 'loadTrip', kind: 'action', action: 'loadTrip', on: { not_found: 'tripNotFound', closed: 'tripClosed' } },
    { id: 'consent', kind: 'choice', field: 'consent', prompt: 'passenger.consent.prompt', options: [{ value: '1' }, { value: '2', end: 'passenger.consentDeclined' }] },
    { id: 'loadSaved', kind: 'action', action: 'loadSavedProfile', next: 'useSaved', on: { none: 'name' } },
    {
      id: 'useSaved', kind: 'choice', prompt: 'passenger.useSaved.prompt',
      options: [
        {
          value: '1', skipFilled: true, next: 'name',
          set: { name: 'var:saved.name', idType: 'var:saved.idType', idNumber: 'var:saved.idNumber', phone: 'var:saved.phone', addressBefore: 'var:saved.addressBefore', addressBeijing: 'var:saved.addressBeijing', fromSaved: true },
        },
        { value: '2', next: 'name', set: { ignoreSaved: true } },
      ],
    },
    ...passengerQuestions('passenger', { phoneOptional: false, matchPreregistration: true }),
    { id: 'done', kind: 'choice', prompt: 'passenger.done', options: [{ value: '1', reset: true, next: 'family' }], idleOnOther: true },
    // `1` after done: the same trip for a family member; consent was given, so the questions start at the name.
    { id: 'family', kind: 'message', prompt: 'passenger.family', next: 'name' },
    { id: 'alreadyRegistered', kind: 'message', prompt: 'passenger.alreadyRegistered', end: true },
    { id: 'tripNotFound', kind: 'message', prompt: 'passenger.tripNotFound', end: true },
    { id: 'tripClosed', kind: 'message', prompt: 'passenger.tripClosed', end: true },
  ],
} as const;
