/** The identity-document menu shared by passengers, assisted registration and crew (contract order 1-7). */
export const ID_TYPE_OPTIONS = ['1', '2', '3', '4', '5', '6', '7'].map((value) => ({ value }));

const OTHER_TYPES = ['2', '3', '4', '5', '6', '7'] as const;

/** The step id asking for the number of document type `type`: `idNumber` for the resident ID card, `idNumber4`… */
export function idNumberStepId(base: string, type: string): string {
  return type === '1' ? base : `${base}${type}`;
}

/** Only for document type `type` (a type still missing counts as the resident ID card, the usual case). */
export function whenIdType(typeField: string, type: string) {
  return type === '1' ? OTHER_TYPES.map((t) => ({ field: typeField, notEquals: t })) : [{ field: typeField, equals: type }];
}

/**
 * The document-number question, one step per document type so each asks for its own number with an example
 * (`<prefix>.<base>.prompt` for the resident ID card, `<prefix>.<base>.t2`… for the others). All store `field`.
 */
export function idNumberSteps(args: { base: string; field: string; parse: string; prefix: string; typeField: string; extraWhen?: readonly object[] }) {
  return ID_TYPE_OPTIONS.map(({ value }) => ({
    id: idNumberStepId(args.base, value), kind: 'collect', field: args.field, parse: args.parse,
    prompt: value === '1' ? `${args.prefix}.${args.base}.prompt` : `${args.prefix}.${args.base}.t${value}`,
    when: [...(args.extraWhen ?? []), ...whenIdType(args.typeField, value)],
  }) as const);
}
