import { ID_TYPE_OPTIONS, idNumberStepId, idNumberSteps, whenIdType } from './id-document.js';

/**
 * The questions about one passenger, shared by self-registration (WeChat, SMS) and assisted registration.
 * `prefix` names the locale area of the flow using them; `phoneOptional` lets crew answer 无 for riders without a phone.
 */
export function passengerQuestions(prefix: string, options: { phoneOptional: boolean; matchPreregistration: boolean }) {
  return [
    { id: 'name', kind: 'collect', field: 'name', parse: 'personName', prompt: `${prefix}.name.prompt` },
    {
      id: 'idType', kind: 'choice', field: 'idType', prompt: `${prefix}.idType.prompt`, options: ID_TYPE_OPTIONS,
      shortcut: { parse: 'residentId', set: { idType: '1', idNumber: 'value' }, next: options.matchPreregistration ? 'matchPrereg' : 'phoneSelf' },
    },
    // One question per document type, so each names its own number and example (step `idNumber` = resident ID card).
    ...idNumberSteps({ base: 'idNumber', field: 'idNumber', parse: 'idNumber', prefix, typeField: 'idType' }),
    // A ticketing pre-registration matched by the typed document number: shown masked, `1` takes it. The offer is its
    // own step here (not a jump back to useSaved): a skipped step continues in order, so a `next` on it would loop.
    ...(options.matchPreregistration
      ? [
        { id: 'matchPrereg', kind: 'action', action: 'matchPreregistration', on: { none: 'phoneSelf' }, when: [{ field: 'ignoreSaved', missing: true }, { field: 'fromSaved', missing: true }] },
        {
          id: 'usePrereg', kind: 'choice', prompt: `${prefix}.useSaved.prompt`, when: [{ field: 'ignoreSaved', missing: true }, { field: 'fromSaved', missing: true }],
          options: [
            {
              value: '1', skipFilled: true, next: 'phoneSelf',
              set: { name: 'var:saved.name', idType: 'var:saved.idType', idNumber: 'var:saved.idNumber', phone: 'var:saved.phone', fromSaved: true },
            },
            { value: '2', next: 'phoneSelf', set: { ignoreSaved: true } },
          ],
        },
      ]
      : []),
    {
      id: 'phoneSelf', kind: 'choice', prompt: `${prefix}.phoneSelf.prompt`, when: [{ channel: ['sms'] }, { field: 'phone', missing: true }],
      options: [{ value: '1', set: { phone: 'ctx:senderPhone' }, next: 'addressBefore' }, { value: '2', next: 'phone' }],
    },
    { id: 'phone', kind: 'collect', field: 'phone', parse: 'mobile', prompt: `${prefix}.phone.prompt`, allowNone: options.phoneOptional },
    { id: 'addressBefore', kind: 'collect', field: 'addressBefore', parse: 'address', prompt: `${prefix}.addressBefore.prompt`, when: [{ var: 'trip.beijingBound', equals: true }] },
    { id: 'addressBeijing', kind: 'collect', field: 'addressBeijing', parse: 'address', prompt: `${prefix}.addressBeijing.prompt`, when: [{ var: 'trip.beijingBound', equals: true }] },
    {
      id: 'summary', kind: 'summary', prompt: `${prefix}.summary.prompt`, when: [{ field: 'fromSaved', missing: true }],
      items: [
        { label: 'passenger.items.name', field: 'name', format: 'masked_name', edit: 'name' },
        { label: 'passenger.items.idType', field: 'idType', format: 'id_type', edit: 'idType', clears: ['idNumber'] },
        ...ID_TYPE_OPTIONS.map(({ value }) => ({ label: 'passenger.items.idNumber', field: 'idNumber', format: 'masked_id', edit: idNumberStepId('idNumber', value), when: whenIdType('idType', value) }) as const),
        { label: 'passenger.items.phone', field: 'phone', format: 'masked_phone', edit: 'phone' },
        { label: 'passenger.items.addressBefore', field: 'addressBefore', format: 'masked_address', edit: 'addressBefore', when: [{ var: 'trip.beijingBound', equals: true }] },
        { label: 'passenger.items.addressBeijing', field: 'addressBeijing', format: 'masked_address', edit: 'addressBeijing', when: [{ var: 'trip.beijingBound', equals: true }] },
      ],
    },
    { id: 'register', kind: 'action', action: 'registerPassenger', on: { duplicate: 'alreadyRegistered', closed: 'tripClosed' } },
  ] as const;
}
