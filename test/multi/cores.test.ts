/**
 * The cores --jobs means by default: the CPUs, bounded by a cgroup CPU
 * quota, read as libuv 1.49 and Rust's std read it. Each case is a small
 * file system of the kernel's files, as a container or a pod sees them.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { availableCores, cgroupCpus } from '../../src/multi/cores.js';

const fs = (files: Record<string, string>) => (path: string): string | null => files[path] ?? null;

describe('cgroupCpus', () => {
  it('cgroup v2: the quota of the process\'s own group', () => {
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '0::/kubepods/pod1/c1\n', '/sys/fs/cgroup/kubepods/pod1/c1/cgroup.controllers': 'cpu memory', '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': '200000 100000\n' }))).toBe(2);
  });

  it('cgroup v2: the tightest quota from the group up to the mount; "max" is no limit', () => {
    const files = {
      '/proc/self/cgroup': '0::/a/b\n',
      '/sys/fs/cgroup/a/b/cgroup.controllers': 'cpu',
      '/sys/fs/cgroup/a/b/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/a/cpu.max': '150000 100000\n',
      '/sys/fs/cgroup/cpu.max': '400000 100000\n',
    };
    expect(cgroupCpus(fs(files))).toBe(1.5);
    expect(cgroupCpus(fs({ ...files, '/sys/fs/cgroup/a/cpu.max': 'max 100000\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeNull();
  });

  it('cgroup v2 in a namespace of its own ("0::/"): the mount is the container\'s group', () => {
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cgroup.controllers': 'cpu', '/sys/fs/cgroup/cpu.max': '300000 100000\n' }))).toBe(3);
    // A group path that is not mounted here (the host's name for it): read from the mount.
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '0::/system.slice/docker-1.scope\n', '/sys/fs/cgroup/cgroup.controllers': 'cpu', '/sys/fs/cgroup/cpu.max': '50000 100000\n' }))).toBe(0.5);
  });

  it('cgroup v1: cfs_quota_us / cfs_period_us, -1 is no limit; the line with the cpu controller wins over the v2 line', () => {
    const proc = '12:cpuset:/docker/x\n4:cpu,cpuacct:/docker/x\n0::/\n';
    const base = { '/proc/self/cgroup': proc, '/sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_period_us': '100000\n' };
    expect(cgroupCpus(fs({ ...base, '/sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us': '250000\n' }))).toBe(2.5);
    expect(cgroupCpus(fs({ ...base, '/sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us': '-1\n' }))).toBeNull();
    // The container's own group mounted at the root of the hierarchy.
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '3:cpu:/docker/y\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000' }))).toBe(1);
  });

  it('nothing readable, or a path that climbs: no limit known', () => {
    expect(cgroupCpus(fs({}))).toBeNull();
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '0::/../etc\n' }))).toBeNull();
    expect(cgroupCpus(fs({ '/proc/self/cgroup': '0::/a\n', '/sys/fs/cgroup/a/cgroup.controllers': '', '/sys/fs/cgroup/a/cpu.max': 'garbage' }))).toBeNull();
  });
});

describe('availableCores', () => {
  // Seen for real on a cgroup v1 machine: a group with quota 50000/100000 gave 1 (os.availableParallelism() 2), 250000/100000 gave 2.
  it('is at least 1 and never more than the CPUs this process may run on', () => {
    expect(availableCores()).toBeGreaterThanOrEqual(1);
    expect(availableCores()).toBeLessThanOrEqual(availableParallelism());
  });
});
