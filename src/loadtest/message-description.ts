import * as generated from '../protocol/generated/chat';
import { NoticeCode, NoticeKind, ReceiptStatus } from '../protocol/messages';
import { MessageFields } from './load-messages';

function describeReceipt({ status, reason }: generated.Receipt.$Properties): string {
  const name = ReceiptStatus[status ?? ReceiptStatus.STATUS_UNSPECIFIED];
  return reason ? `${name}: ${reason}` : name;
}

/** A notice from the server, as its kind, its code and its text: "ERROR UNKNOWN_DELIVERY: …". */
export function describeNotice({ kind, code, text }: generated.Notice.$Properties): string {
  const kindName = NoticeKind[kind ?? NoticeKind.KIND_UNSPECIFIED];
  const codeName = NoticeCode[code ?? NoticeCode.CODE_UNSPECIFIED];
  return `${kindName} ${codeName}: ${text ?? ''}`;
}

/**
 * A message from the server in one line of JSON, for an error report: its ids and text, and
 * whatever a direct message or a notice carries besides.
 */
export function describeMessage(
  message: MessageFields &
    Partial<Pick<generated.ChatMessage, 'delivery' | 'redelivered' | 'receipt' | 'notice'>>,
): string {
  const { from, to, msg, delivery, redelivered, receipt, notice } = message;
  return JSON.stringify({
    from: from.toString(),
    to: to.toString(),
    msg,
    ...(delivery && !delivery.isZero() ? { delivery: delivery.toString() } : {}),
    ...(redelivered ? { redelivered } : {}),
    ...(receipt ? { receipt: describeReceipt(receipt) } : {}),
    ...(notice ? { notice: describeNotice(notice) } : {}),
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
