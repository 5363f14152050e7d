/**
 * JSON.stringify(value, null, gap) as k6's JavaScript runtime (sobek) writes
 * it, for the --summary-export file. It differs from V8 in one way: an empty
 * object or array does not give back the indentation it took, so whatever
 * its parent writes after it (the contents of later siblings) is indented
 * one `gap` deeper, up to the parent's closing bracket. k6's export shows it
 * whenever a group has no subgroup (`"groups": {}`) before its checks.
 */
export function stringifyLikeK6(value: unknown, gap: string): string | undefined {
  let indent = '';

  const write = (v: unknown): string | undefined => {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return write((json as () => unknown).call(v));
    const stepback = indent;
    indent += gap;
    const inner = indent;
    const open = gap === '' ? '' : `\n${inner}`;
    const separator = gap === '' ? ',' : `,\n${inner}`;
    const close = gap === '' ? '' : `\n${stepback}`;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]'; // `indent` stays deeper, as in sobek
      const items = v.map((item: unknown) => write(item) ?? 'null');
      indent = stepback;
      return `[${open}${items.join(separator)}${close}]`;
    }
    const members: string[] = [];
    for (const key of Object.keys(v)) {
      const member = write((v as Record<string, unknown>)[key]);
      if (member !== undefined) {
        members.push(`${JSON.stringify(key)}:${gap === '' ? '' : ' '}${member}`);
      }
    }
    if (members.length === 0) return '{}'; // `indent` stays deeper, as in sobek
    indent = stepback;
    return `{${open}${members.join(separator)}${close}}`;
  };

  return write(value);
}
