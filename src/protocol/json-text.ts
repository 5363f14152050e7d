import { randomUUID } from 'node:crypto';

/**
 * A value serialized once, sent many times: setup() data goes to every agent
 * (and again on each retried poll), up to the events route's size limit, so
 * serializing it per answer would cost the coordinator agents × size of CPU
 * (issue 17.3). `stringifyWithText` splices the text in as it is.
 */
export class JsonText {
  readonly text: string;

  constructor(value: unknown) {
    // undefined (a setup() that returned nothing) travels as null, as JSON.stringify would put it.
    this.text = value === undefined ? 'null' : JSON.stringify(value);
  }

  /** What the receiver parses. */
  parse(): unknown {
    return JSON.parse(this.text) as unknown;
  }
}

/** JSON.stringify, with every JsonText inside `body` spliced in verbatim. */
export function stringifyWithText(body: unknown): string {
  const texts: string[] = [];
  // Random per call: no string in the data can match it.
  const marker = `json-text-${randomUUID()}-`;
  const json = JSON.stringify(body, (_key, value: unknown) => {
    if (!(value instanceof JsonText)) return value;
    texts.push(value.text);
    return `${marker}${String(texts.length - 1)}`;
  });
  if (texts.length === 0) return json;
  return json.replace(
    new RegExp(`"${marker}(\\d+)"`, 'g'),
    (_, i: string) => texts[Number(i)] ?? 'null',
  );
}
