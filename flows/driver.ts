import { ID_TYPE_OPTIONS, idNumberSteps } from './id-document.js';

/**
 * Driver / crew: a plate number starts a trip registration; `再发一班`/`repeat` copies the plate's last trip
 * and asks only for the new departure time.
 */
export const driverFlow = {
  id: 'driver',
  version: 1,
  triggers: [
    { match: 'plate', field: 'plate' },
    { command: ['再发一班', 'repeat'], arg: { parse: 'plate', field: 'plate', optional: true }, startAt: 'loadLast', skipFilled: true },
  ],
  restartAt: 'passengerCount',
  steps: [
    { id: 'passengerCount', kind: 'collect', field: 'passengerCount', parse: 'passengerCount', prompt: 'driver.passengerCount.prompt' },
    { id: 'driverName', kind: 'collect', field: 'driverName', parse: 'personName', prompt: 'driver.driverName.prompt' },
    { id: 'driverPhone', kind: 'collect', field: 'driverPhone', parse: 'mobile', prompt: 'driver.driverPhone.prompt' },
    { id: 'registrantIsDriver', kind: 'choice', field: 'registrantIsDriver', prompt: 'driver.registrantIsDriver.prompt', options: [{ value: '1' }, { value: '2' }] },
    { id: 'registrantName', kind: 'collect', field: 'registrantName', parse: 'personName', prompt: 'driver.registrantName.prompt', when: [{ field: 'registrantIsDriver', equals: '2' }] },
    { id: 'registrantPhone', kind: 'collect', field: 'registrantPhone', parse: 'mobile', prompt: 'driver.registrantPhone.prompt', when: [{ field: 'registrantIsDriver', equals: '2' }] },
    { id: 'hasCrew', kind: 'choice', field: 'hasCrew', prompt: 'driver.hasCrew.prompt', options: [{ value: '1' }, { value: '2' }] },
    { id: 'crewName', kind: 'collect', field: 'crewName', parse: 'personName', prompt: 'driver.crewName.prompt', when: [{ field: 'hasCrew', equals: '1' }] },
    { id: 'crewPhone', kind: 'collect', field: 'crewPhone', parse: 'mobile', prompt: 'driver.crewPhone.prompt', when: [{ field: 'hasCrew', equals: '1' }] },
    {
      id: 'crewIdType', kind: 'choice', field: 'crewIdType', prompt: 'driver.crewIdType.prompt', options: ID_TYPE_OPTIONS, when: [{ field: 'hasCrew', equals: '1' }],
      shortcut: { parse: 'residentId', set: { crewIdType: '1', crewIdNumber: 'value' }, next: 'tripNumber' },
    },
    ...idNumberSteps({ base: 'crewIdNumber', field: 'crewIdNumber', parse: 'crewIdNumber', prefix: 'driver', typeField: 'crewIdType', extraWhen: [{ field: 'hasCrew', equals: '1' }] }),
    { id: 'tripNumber', kind: 'collect', field: 'tripNumber', parse: 'tripNumber', prompt: 'driver.tripNumber.prompt', allowNone: true },
    { id: 'departureAt', kind: 'collect', field: 'departureAt', parse: 'departureTime', prompt: 'driver.departureAt.prompt' },
    { id: 'origin', kind: 'collect', field: 'origin', parse: 'place', prompt: 'driver.origin.prompt' },
    { id: 'destination', kind: 'collect', field: 'destination', parse: 'place', prompt: 'driver.destination.prompt' },
    {
      id: 'summary', kind: 'summary', prompt: 'driver.summary.prompt',
      items: [
        { label: 'driver.items.plate', field: 'plate', format: 'text', edit: 'plateEdit' },
        { label: 'driver.items.passengerCount', field: 'passengerCount', format: 'count', edit: 'passengerCount' },
        { label: 'driver.items.driverName', field: 'driverName', format: 'text', edit: 'driverName' },
        { label: 'driver.items.driverPhone', field: 'driverPhone', format: 'masked_phone', edit: 'driverPhone' },
        { label: 'driver.items.tripNumber', field: 'tripNumber', format: 'none_or_text', edit: 'tripNumber' },
        { label: 'driver.items.departureAt', field: 'departureAt', format: 'datetime', edit: 'departureAt' },
        { label: 'driver.items.origin', field: 'origin', format: 'place', edit: 'origin' },
        { label: 'driver.items.destination', field: 'destination', format: 'place', edit: 'destination' },
        // Registrant and crew are always listed (last, so the numbers above never move), so "the driver registers" and
        // "no crew" can be changed from here too.
        { label: 'driver.items.registrant', field: 'driverName', format: 'text', edit: 'registrantIsDriver', when: [{ field: 'registrantIsDriver', notEquals: '2' }], clears: ['registrantName', 'registrantPhone'] },
        { label: 'driver.items.registrant', field: 'registrantName', format: 'text', edit: 'registrantIsDriver', when: [{ field: 'registrantIsDriver', equals: '2' }], clears: ['registrantName', 'registrantPhone'] },
        { label: 'driver.items.crew', field: 'crewName', format: 'text', edit: 'hasCrew', when: [{ field: 'hasCrew', equals: '1' }], clears: ['crewName', 'crewPhone', 'crewIdType', 'crewIdNumber'] },
        { label: 'driver.items.crew', field: 'crewName', format: 'none_or_text', edit: 'hasCrew', when: [{ field: 'hasCrew', notEquals: '1' }], clears: ['crewName', 'crewPhone', 'crewIdType', 'crewIdNumber'] },
      ],
    },
    { id: 'createTrip', kind: 'action', action: 'createTrip', on: { conflict: 'createFailed' } },
    { id: 'done', kind: 'message', prompt: 'driver.done', attachQr: true, end: true },
    { id: 'createFailed', kind: 'message', prompt: 'driver.createFailed', end: true },
    // Reached only through their triggers or the summary.
    { id: 'plateEdit', kind: 'collect', field: 'plate', parse: 'plate', prompt: 'driver.plateEdit.prompt', next: 'summary' },
    { id: 'loadLast', kind: 'action', action: 'loadLastTrip', next: 'repeatIntro', on: { none: 'noLastTrip' } },
    { id: 'repeatIntro', kind: 'message', prompt: 'driver.repeatIntro', next: 'departureAt' },
    { id: 'noLastTrip', kind: 'message', prompt: 'driver.noLastTrip', end: true },
  ],
} as const;
