/**
 * The one way options meet their defaults: `resolveOptions(DEFAULTS, options)` merges nested plain objects
 * (so `{ fit: { maxEpochs: 3 } }` keeps the other fit defaults) and drops every explicit `undefined`, so an
 * option passed through as `undefined` never replaces its default. Arrays and typed arrays are values, not
 * merged. Every `DEFAULTS` object is declared `satisfies Required<Options>`, so a default cannot be missing.
 */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * `defaults` overlaid with `options` (deeply for plain objects); explicit `undefined` keeps the default. The
 * result has the options' type with every top-level key present.
 */
export function resolveOptions<O extends object>(defaults: NoInfer<Required<O>>, options: O): Required<O> {
  return merge(defaults, options) as Required<O>;
}

function merge(defaults: object, options: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    const d = out[k];
    out[k] = isPlainObject(d) && isPlainObject(v) ? merge(d, v) : v;
  }
  return out;
}
