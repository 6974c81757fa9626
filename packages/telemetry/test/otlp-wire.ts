/**
 * A reader of OTLP trace export requests for the tests' collector: protobuf (the wire format, decoded
 * field by field after opentelemetry/proto/collector/trace/v1/trace_service.proto) and JSON (the
 * protobuf JSON mapping), both into the same plain shape. Written apart from the exporter's own
 * serializer, so a test compares two independent readings of the specification.
 */

export interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** SPAN_KIND_*: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  scope: { name: string; version: string };
  resource: Record<string, string | number | boolean>;
}

type Field = { number: number; wire: number; varint?: bigint; bytes?: Uint8Array; fixed?: Uint8Array };

function fields(data: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = data[at++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < data.length) {
    const key = Number(varint());
    const field: Field = { number: key >>> 3, wire: key & 7 };
    if (field.wire === 0) field.varint = varint();
    else if (field.wire === 2) {
      const length = Number(varint());
      field.bytes = data.subarray(at, at + length);
      at += length;
    } else if (field.wire === 1) {
      field.fixed = data.subarray(at, at + 8);
      at += 8;
    } else if (field.wire === 5) {
      field.fixed = data.subarray(at, at + 4);
      at += 4;
    } else throw new Error(`unsupported wire type ${field.wire}`);
    out.push(field);
  }
  return out;
}

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('hex');

function anyValue(data: Uint8Array): string | number | boolean {
  for (const field of fields(data)) {
    if (field.number === 1) return text(field.bytes);
    if (field.number === 2) return field.varint === 1n;
    if (field.number === 3) return Number(BigInt.asIntN(64, field.varint ?? 0n));
    if (field.number === 4 && field.fixed) return Buffer.from(field.fixed).readDoubleLE(0);
    if (field.number === 5) return '[array]';
  }
  return '';
}

function keyValues(list: Field[], number: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const field of list.filter((candidate) => candidate.number === number)) {
    const parts = fields(field.bytes as Uint8Array);
    const key = text(parts.find((part) => part.number === 1)?.bytes);
    const value = parts.find((part) => part.number === 2)?.bytes;
    out[key] = value ? anyValue(value) : '';
  }
  return out;
}

/** An ExportTraceServiceRequest in protobuf. */
export function decodeProtobufRequest(body: Uint8Array): WireSpan[] {
  const spans: WireSpan[] = [];
  for (const resourceSpans of fields(body).filter((field) => field.number === 1)) {
    const rs = fields(resourceSpans.bytes as Uint8Array);
    const resourceField = rs.find((field) => field.number === 1);
    const resource = resourceField ? keyValues(fields(resourceField.bytes as Uint8Array), 1) : {};
    for (const scopeSpans of rs.filter((field) => field.number === 2)) {
      const ss = fields(scopeSpans.bytes as Uint8Array);
      const scopeFields = fields(ss.find((field) => field.number === 1)?.bytes ?? new Uint8Array());
      const scope = {
        name: text(scopeFields.find((field) => field.number === 1)?.bytes),
        version: text(scopeFields.find((field) => field.number === 2)?.bytes),
      };
      for (const spanField of ss.filter((field) => field.number === 2)) {
        const span = fields(spanField.bytes as Uint8Array);
        const get = (number: number) => span.find((field) => field.number === number);
        spans.push({
          traceId: hex(get(1)?.bytes),
          spanId: hex(get(2)?.bytes),
          parentSpanId: hex(get(4)?.bytes),
          name: text(get(5)?.bytes),
          kind: Number(get(6)?.varint ?? 0n),
          attributes: keyValues(span, 9),
          scope,
          resource,
        });
      }
    }
  }
  return spans;
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
interface JsonRequest {
  resourceSpans: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans: {
      scope?: { name?: string; version?: string };
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: JsonKeyValue[];
      }[];
    }[];
  }[];
}

function jsonValue(value: JsonAnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return '';
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((entry) => [entry.key, jsonValue(entry.value)]));
}

/** An ExportTraceServiceRequest in the OTLP/JSON mapping (ids as hex strings). */
export function decodeJsonRequest(body: string): WireSpan[] {
  const request = JSON.parse(body) as JsonRequest;
  return request.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes),
        scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
        resource: jsonAttributes(rs.resource?.attributes),
      })),
    ),
  );
}
