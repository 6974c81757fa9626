import type { BusHeaders, BusMessage, BusPayload } from './transport/types.js';

const decoder = new TextDecoder();

/** UTF-8 bytes of a string (a Buffer, which is a Uint8Array). */
export function encodeUtf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

export function decodeUtf8(data: Uint8Array): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : decoder.decode(data);
}

/** Size in bytes of a payload as it travels. */
export function payloadSize(payload: BusPayload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

/**
 * A message over bytes or text; each form is made from the other only when asked for, once.
 */
export class PayloadMessage implements BusMessage {
  private bytes: Uint8Array | undefined;
  private text: string | undefined;

  constructor(
    readonly subject: string,
    payload: BusPayload,
    readonly size: number,
    readonly headers: BusHeaders | undefined,
    readonly reply: string | undefined,
  ) {
    if (typeof payload === 'string') this.text = payload;
    else this.bytes = payload;
  }

  get data(): Uint8Array {
    this.bytes ??= encodeUtf8(this.text as string);
    return this.bytes;
  }

  string(): string {
    this.text ??= decodeUtf8(this.bytes as Uint8Array);
    return this.text;
  }
}

/** A message made from bytes received outside a Bus (JetStream, KV). */
export function messageOf(subject: string, payload: BusPayload, headers?: BusHeaders): BusMessage {
  return new PayloadMessage(subject, payload, payloadSize(payload), headers, undefined);
}
