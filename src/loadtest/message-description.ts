import * as generated from '../protocol/generated/chat';
import { NoticeCode, NoticeKind, ReceiptStatus } from '../protocol/messages';

/**
 * A message from the server in one line of JSON, for an error report: its ids and text, and
 * whatever a direct message or a notice carries besides.
 */
export function describeMessage(message: generated.ChatMessage): string {
  const { from, to, msg, delivery, redelivered, receipt, notice } = message;
  return JSON.stringify({
    from: from.toString(),
    to: to.toString(),
    msg,
    ...(delivery.isZero() ? {} : { delivery: delivery.toString() }),
    ...(redelivered ? { redelivered } : {}),
    ...(receipt ? { receipt: ReceiptStatus[receipt.status ?? 0] } : {}),
    ...(notice
      ? {
          notice: {
            kind: NoticeKind[notice.kind ?? 0],
            code: NoticeCode[notice.code ?? 0],
            text: notice.text ?? '',
          },
        }
      : {}),
  });
}

/** A frame from the server (without its length prefix) as `describeMessage` says it, or why it is not a message. */
export function describeFrame(body: Buffer): string {
  try {
    return describeMessage(generated.ChatMessage.decode(body));
  } catch (error) {
    return `undecodable (${error instanceof Error ? error.message : String(error)})`;
  }
}
