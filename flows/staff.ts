/** Staff commands: enrollment with a one-time code, SMS invitations, arrival verification. */
export const enrollFlow = {
  id: 'enroll',
  version: 1,
  triggers: [{ command: ['绑定', 'enroll'], arg: { parse: 'enrollCode', field: 'code' } }],
  restartAt: 'enroll',
  steps: [
    { id: 'enroll', kind: 'action', action: 'enrollStaff', on: { invalid: 'invalid' } },
    { id: 'done', kind: 'message', prompt: 'staff.enrolled', end: true },
    { id: 'invalid', kind: 'message', prompt: 'staff.enrollInvalid', end: true },
  ],
} as const;

export const smsInviteFlow = {
  id: 'smsInvite',
  version: 1,
  triggers: [{ command: ['短信登记', 'sms'], arg: { parse: 'mobile', field: 'phone' } }],
  restartAt: 'invite',
  steps: [
    { id: 'invite', kind: 'action', action: 'sendSmsInvite', on: { forbidden: 'forbidden', no_trip: 'noTrip', busy: 'busy' } },
    { id: 'sent', kind: 'message', prompt: 'staff.smsInviteSent', end: true },
    { id: 'forbidden', kind: 'message', prompt: 'staff.smsInviteForbidden', end: true },
    { id: 'noTrip', kind: 'message', prompt: 'staff.smsInviteNoTrip', end: true },
    { id: 'busy', kind: 'message', prompt: 'staff.smsInviteBusy', end: true },
  ],
} as const;

export const verifyFlow = {
  id: 'verify',
  version: 1,
  triggers: [{ command: ['核验', 'verify'], arg: { parse: 'tripCode', field: 'tripCode' } }],
  restartAt: 'marks',
  steps: [
    { id: 'requireStation', kind: 'action', action: 'requireStationStaff', on: { forbidden: 'forbidden' } },
    { id: 'loadRoster', kind: 'action', action: 'loadRoster', on: { not_found: 'tripNotFound' } },
    { id: 'marks', kind: 'collect', field: 'marks', parse: 'arrivalMarks', prompt: 'verify.marks.prompt' },
    { id: 'apply', kind: 'action', action: 'markArrivals' },
    { id: 'result', kind: 'message', prompt: 'verify.result', end: true },
    { id: 'forbidden', kind: 'message', prompt: 'verify.forbidden', end: true },
    { id: 'tripNotFound', kind: 'message', prompt: 'passenger.tripNotFound', end: true },
  ],
} as const;
