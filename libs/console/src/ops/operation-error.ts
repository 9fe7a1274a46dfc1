/** Why an operation was refused, in the operator's terms; the REST layer picks the status. */
export type OperationErrorKind = 'invalid' | 'not-found' | 'conflict';

/**
 * An operation refused before or instead of asking the cluster: bad input, a thing that does
 * not exist, or a state that does not allow it (a group with members). The CLI prints the
 * message; the REST API answers 400, 404 or 409.
 */
export class OperationError extends Error {
  constructor(
    readonly kind: OperationErrorKind,
    message: string,
    /** Facts a REST client can act on without parsing the message (a group's state). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'OperationError';
  }
}
