/**
 * Numbers in words for people: "1,234,567", "1 error", "2 errors". Our own
 * grouping, not `toLocaleString`: the first call of that loads ICU's number
 * formats, 20 ms of every run's start-up, and its output would depend on the
 * machine's locale data.
 */

/** 1234567 -> "1,234,567"; a fraction is kept as it is (1234.5 -> "1,234.5"). */
export function num(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** "1 error", "2 errors", "1,000 packets". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}
