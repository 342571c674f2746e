/** The identity-document menu shared by passengers, assisted registration and crew (contract order 1-7). */
export const ID_TYPE_OPTIONS = ['1', '2', '3', '4', '5', '6', '7'].map((value) => ({ value }));
