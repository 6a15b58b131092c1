/**
 * The cores this process may use, which is what `--jobs` means by default:
 * the CPUs it may run on (os.availableParallelism(): sched_getaffinity),
 * bounded by a cgroup CPU quota, as a container's `--cpus` or a Kubernetes
 * CPU limit sets. Node 20's libuv (1.46) reads the affinity only, so a pod
 * limited to 2 CPUs on a 64-core node would start 64 engines (about 20 MB
 * and 0.1 s each, then throttled to 2 CPUs); libuv 1.49 (Node 22) and Rust's
 * std read the quota too, and this does what they do: the process's own
 * cgroup from /proc/self/cgroup (a v1 line with the `cpu` controller before
 * the v2 line), then the tightest quota/period from that group up to the
 * mount, rounded down, at least 1.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a small file of the kernel's, or null when it is not there. */
export type ReadFile = (path: string) => string | null;

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

const V2_MOUNT = '/sys/fs/cgroup';
const V1_MOUNTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];

/** The CPUs a quota allows (quota / period), or null for none ("max", -1, or unreadable). */
function ratio(quota: number, period: number): number | null {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : null;
}

/** The smallest quota of `dir` and every directory above it up to `mount`. */
function tightest(mount: string, dir: string, quotaOf: (dir: string) => number | null): number | null {
  let best: number | null = null;
  for (let d = dir; ; d = d.slice(0, d.lastIndexOf('/'))) {
    const q = quotaOf(d);
    if (q !== null && (best === null || q < best)) best = q;
    if (d.length <= mount.length) return best;
  }
}

/** The process's own cgroup: its version and its path under the hierarchy's mount (no leading slash). */
function ownGroup(procCgroup: string): { v1: boolean; path: string } | null {
  let found: { v1: boolean; path: string } | null = null;
  for (const line of procCgroup.split('\n')) {
    const m = /^[^:]*:([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const v1 = m[1] !== '';
    if (v1 && !m[1]!.split(',').includes('cpu')) continue;
    if (!v1 && found !== null) continue; // a v1 `cpu` line names its controller; it wins
    const path = m[2]!.replace(/^\/+/, '').replace(/\/+$/, '');
    if (path.split('/').includes('..')) continue;
    found = { v1, path };
  }
  return found;
}

/** The CPUs the cgroup quota allows this process, or null when none is set (or none can be read). */
export function cgroupCpus(read: ReadFile = readOrNull): number | null {
  const own = read('/proc/self/cgroup');
  const group = own === null ? null : ownGroup(own);
  if (group === null) return null;
  const join = (mount: string): string => (group.path === '' ? mount : `${mount}/${group.path}`);
  if (!group.v1) {
    // A group not under the mount (a container with a cgroup namespace of its own sees "/"; one sharing the host's sees a path that is not mounted here) reads from the mount down.
    const leaf = read(`${join(V2_MOUNT)}/cgroup.controllers`) !== null ? join(V2_MOUNT) : V2_MOUNT;
    return tightest(V2_MOUNT, leaf, (dir) => {
      const [quota, period] = (read(`${dir}/cpu.max`) ?? '').trim().split(/\s+/);
      return quota === 'max' ? null : ratio(Number(quota), Number(period));
    });
  }
  for (const mount of V1_MOUNTS) {
    const leaf = read(`${join(mount)}/cpu.cfs_period_us`) !== null ? join(mount) : read(`${mount}/cpu.cfs_period_us`) !== null ? mount : null;
    if (leaf === null) continue;
    return tightest(mount, leaf, (dir) => ratio(Number(read(`${dir}/cpu.cfs_quota_us`)), Number(read(`${dir}/cpu.cfs_period_us`))));
  }
  return null;
}

let cached = 0;

/** The cores this process may use (see the module comment); worked out once per process. */
export function availableCores(): number {
  if (cached === 0) {
    const cpus = cgroupCpus();
    cached = Math.max(1, Math.min(availableParallelism(), cpus === null ? Infinity : Math.floor(cpus)));
  }
  return cached;
}
