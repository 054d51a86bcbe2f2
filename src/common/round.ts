/** `value` to `digits` decimals, as Math.round does; never -0 (CSV would print it as "-0"). */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale + 0;
}
