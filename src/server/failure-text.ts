/** The text of a failure, in one line: for a log line, an answer or a reason. */
export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
