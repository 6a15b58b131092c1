/**
 * The command line as users and scripts meet it: exit codes, one-line errors,
 * no partial output, the input never touched, streaming through pipes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { cli, cliAsync, ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';

/** A rule that matches nothing in the corpus files used below. */
const NOMATCH = '198.18.0.0/24=198.19.0.0/24';
const PCAPNG = corpusPath('pcapng-test-generator/output_le/difficult/test202.pcapng');
const PCAP = corpusPath('dpkt/dns_icmp.pcap');

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

describe('version and help', () => {
  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim()).toBe(VERSION);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version).toBe(VERSION);
  });
  it('--help shows both commands and examples', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain('rewrite [options] <input> <output>');
    expect(out).toContain('verify [options] <input>...');
    expect(out).toContain('merge-reports [options] <report.json>...');
    expect(out).toContain('$ ssnat-rewrite guest1.pcapng host1.pcapng --rule 10.0.0.0/24=192.168.11.0/24');
  });
  it('rewrite --help lists every option of the contract with its default', () => {
    const out = cli(['rewrite', '--help']).stdout.toString();
    for (const opt of ['--rule', '--rules-file', '--direction', '--format', '--annotate', '--report', '--report-file', '--strict', '--force', '--quiet', '--progress', '--no-progress', '--max-block', '--max-record']) {
      expect(out).toContain(opt);
    }
    const flat = out.replace(/\s+/g, ' ');
    expect(flat).toContain('(choices: "guest-to-host", "host-to-guest", default: "guest-to-host")');
    expect(flat).toContain(`--format <format> output format (default: from the output's name, else the input's) (choices: "same", "pcap", "pcapng")`);
  });
});

describe('usage errors exit 2 with one line', () => {
  it('no arguments: the usage, on stderr, exit 2', () => {
    const r = cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe(cli(['--help']).stdout.toString());
  });
  it('a missing argument: says which, with the one prefix every error line has', () => {
    const r = cli(['verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("ssnat-rewrite: missing required argument 'inputs': give captures or directories to check\n");
    const m = cli(['merge-reports']);
    expect(m.code).toBe(2);
    expect(m.stderr).toBe("ssnat-rewrite: missing required argument 'reports'\n(run 'ssnat-rewrite --help' for usage and examples)\n");
  });
  it('a rewrite without any rule is refused, unless it only converts', () => {
    const dir = tempDir();
    const r = cli([PCAP, join(dir, 'o.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ssnat-rewrite: no --rule or --rules-file: nothing to translate (to convert only, add --format pcap or --format pcapng)\n');
    expect(readdirSync(dir)).toEqual([]);
    expect(cli([PCAP, join(dir, 'o.pcapng'), '--format', 'pcapng', '-q']).code).toBe(0);
  });
  it('a misspelt option suggests the right one', () => {
    const r = cli([PCAP, '/tmp/never', '--rulez', NOMATCH]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ssnat-rewrite: unknown option '--rulez'");
    expect(r.stderr).toContain('(Did you mean --rule?)');
  });
  it('a bad rule is quoted with a caret under the bad part', () => {
    const r = cli([PCAP, '/tmp/never', '--rule', '10.0.0.0/24=192.168.1.0/23']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ssnat-rewrite: rule "10.0.0.0/24=192.168.1.0/23": prefix lengths differ (/24 vs /23)\n  10.0.0.0/24=192.168.1.0/23\n                         ^\n');
  });
  it('an existing output needs --force and is left as it was', () => {
    const dir = tempDir();
    const out = join(dir, 'out.pcap');
    writeFileSync(out, 'precious');
    const r = cli([PCAP, out, '-r', NOMATCH]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: output ${out} exists; pass --force to replace it`);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(cli([PCAP, out, '-r', NOMATCH, '--force', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(PCAP))).toBe(0);
  });
  it.each(['same path', 'hard link', 'symbolic link'])('refuses to write over the input through a %s', (how) => {
    const dir = tempDir();
    const input = join(dir, 'in.pcap');
    copyFileSync(PCAP, input);
    let out = input;
    if (how === 'hard link') linkSync(input, (out = join(dir, 'hard.pcap')));
    if (how === 'symbolic link') symlinkSync(input, (out = join(dir, 'sym.pcap')));
    const r = cli([input, out, '-r', NOMATCH, '--force']);
    expect(r.code).toBe(2);
    const via = how === 'same path' ? '' : ' \\(through a link or another name\\)';
    expect(oneLine(r.stderr)).toMatch(new RegExp(`^ssnat-rewrite: output ${out} is the input ${input}${via}: refusing to overwrite what is being read; choose another path$`));
    expect(Buffer.compare(readFileSync(input), readFileSync(PCAP))).toBe(0);
  });
  it('--format pcap of a capture with several link types says so and leaves nothing', () => {
    const dir = tempDir();
    const r = cli([PCAPNG, join(dir, 'o.pcap'), '-r', NOMATCH, '--format', 'pcap']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe('ssnat-rewrite: --format pcap cannot hold this capture: interface 1 has link type 0, an earlier one 1 (pcap has one link type per file; keep pcapng)');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('bad input exits 3 with one line naming file, offset and problem, and leaves no output', () => {
  it.each([
    ['python-pcapng/test007.ntar', 'byte offset 96: simple packet block: block length 139 is not a multiple of 4'],
    ['libpcap/pcap-invalid-version-1.pcap', 'byte offset 4: unsupported pcap version 1.4 (only 2.x is defined)'],
    ['libpcap/shb-option-too-long.pcapng', 'byte offset 0: section header block: trailing block length 808464432 differs from the leading length 52'],
    [
      'gopacket/pcapgo-tests/le/test901.pcapng',
      'byte offset 492: unsupported pcapng section version 2.0 (only 1.0 is defined); the frame before byte offset 480 is intact: head -c 480 {input} > {stem}.intact.pcapng keeps it',
    ],
  ])('%s', (rel, message) => {
    const dir = tempDir();
    const input = corpusPath(rel);
    const r = cli([input, join(dir, 'out'), '-r', NOMATCH]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: ${input}: ${message.replace('{input}', input).replace('{stem}', input.replace(/\.pcapng$/, ''))}`);
    expect(readdirSync(dir)).toEqual([]);
  });
  it('damage after the first frames: the line says which frames are intact and how to keep them, and that works', () => {
    const dir = tempDir();
    const good = readFileSync(join(ROOT, 'fixtures/golden/ssnat/guest0.pcapng'));
    const frames = Number(/packets +(\d+)/.exec(cli(['verify', join(ROOT, 'fixtures/golden/ssnat/guest0.pcapng'), '--report', 'text']).stdout.toString())![1]);
    // Spoil the trailing length of the last block: every frame before it stays whole.
    const bytes = Buffer.from(good);
    const lastLen = bytes.readUInt32LE(bytes.length - 4);
    const cut = bytes.length - lastLen;
    bytes.writeUInt32LE(lastLen + 4, bytes.length - 4);
    const damaged = join(dir, "clone's capture.pcapng");
    writeFileSync(damaged, bytes);
    const r = cli(['verify', damaged]);
    expect(r.code).toBe(3);
    const keep = `the ${frames - 1} frames before byte offset ${cut} are intact`;
    expect(oneLine(r.stderr)).toBe(
      `ssnat-rewrite: ${damaged}: byte offset ${cut}: enhanced packet block: trailing block length ${lastLen + 4} differs from the leading length ${lastLen}; ${keep}: head -c ${cut} '${dir}/clone'\\''s capture.pcapng' > '${dir}/clone'\\''s capture.intact.pcapng' keeps them`,
    );
    // The command it gives, run by a shell, makes a capture that reads whole.
    execFileSync('sh', ['-c', `cd ${dir} && ${/: (head -c .*) keeps them$/.exec(oneLine(r.stderr))![1]}`]);
    const v = cli(['verify', join(dir, "clone's capture.intact.pcapng"), '--report', 'json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout.toString()).summary.packets).toBe(frames - 1);
    // Compressed, it inflates first; on stdin, it says where the intact part ends.
    writeFileSync(`${damaged}.gz`, gzipSync(bytes));
    expect(oneLine(cli(['verify', `${damaged}.gz`]).stderr)).toContain(`(inflated): byte offset ${cut}: `);
    expect(oneLine(cli(['verify', `${damaged}.gz`]).stderr)).toContain(`; ${keep}: gzip -dc '${dir}/clone'\\''s capture.pcapng.gz' | head -c ${cut} > '${dir}/clone'\\''s capture.intact.pcapng' keeps them`);
    expect(oneLine(cli(['verify', '-'], bytes).stderr)).toMatch(new RegExp(`; the ${frames - 1} frames in its first ${cut} bytes are intact$`));
    // A name no one line can hold gets no command.
    const odd = join(dir, 'two\nlines.pcapng');
    writeFileSync(odd, bytes);
    expect(cli(['verify', odd]).stderr).toBe(`ssnat-rewrite: ${JSON.stringify(odd)}: byte offset ${cut}: enhanced packet block: trailing block length ${lastLen + 4} differs from the leading length ${lastLen}; the ${frames - 1} frames in its first ${cut} bytes are intact\n`);
  });
  it('a record over --max-block is not called damage: the option is the remedy, and no frame is given up', () => {
    const input = join(ROOT, 'fixtures/golden/ssnat/guest0.pcapng');
    const r = cli(['verify', input, '--max-block', '200']);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/: block length \d+ is more than the limit of 200 bytes \(--max-block\)$/);
  });
  it('a missing input', () => {
    const r = cli(['/nonexistent/in.pcap', join(tempDir(), 'o'), '-r', NOMATCH]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toBe('ssnat-rewrite: /nonexistent/in.pcap: no such file or directory');
  });
  it('a file that is not a capture', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'just some text\n');
    const r = cli([join(dir, 'notes.txt'), join(dir, 'o'), '-r', NOMATCH]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: ${join(dir, 'notes.txt')}: byte offset 0: unknown magic number 0x6a757374: not a pcap or pcapng capture`);
  });
});

describe('a capture cut short keeps every complete record', () => {
  const input = corpusPath('dpkt/truncated_dns_2.pcap');
  it('warns with the offset and exits 0', () => {
    const dir = tempDir();
    const r = cli([input, join(dir, 'o.pcap'), '-r', NOMATCH]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: capture.truncated-tail: the input ends inside a record at byte offset 240, after frame 1 (7 of 16 bytes there); every complete record before it is kept');
    expect(Buffer.compare(readFileSync(join(dir, 'o.pcap')), readFileSync(input).subarray(0, 240))).toBe(0);
  });
  it('exits 1 with --strict', () => {
    expect(cli([input, join(tempDir(), 'o.pcap'), '-r', NOMATCH, '--strict']).code).toBe(1);
  });
});

describe('streaming', () => {
  it('stdin to stdout is byte-identical when no rule matches', () => {
    const bytes = readFileSync(PCAPNG);
    const r = cli(['-', '-', '-r', NOMATCH, '-q'], bytes);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, bytes)).toBe(0);
  });
  it('stdin to stdout converts to pcapng', () => {
    const r = cli(['-', '-', '-r', NOMATCH, '--format', 'pcapng', '-q'], readFileSync(PCAP));
    expect(r.code).toBe(0);
    expect(r.stdout.readUInt32LE(0)).toBe(0x0a0d0d0a);
  });
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a run stopped by %s leaves no output and no temporary file, and ends by that signal (a shell sees $? = %i)', async (signal, _status) => {
    const dir = tempDir();
    const child = cliAsync(['-', join(dir, 'out.pcapng'), '-r', NOMATCH]);
    // Half a capture, then nothing: the run waits for more input.
    const bytes = readFileSync(PCAPNG);
    child.stdin.write(bytes.subarray(0, bytes.length >> 1));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Wait until the run has its (hidden) temporary file: a fixed delay was
    // too short once on a loaded machine.
    for (let waited = 0; readdirSync(dir).length === 0 && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir).length).toBe(1);
    await new Promise((r) => setTimeout(r, 50)); // and is in its read loop
    child.kill(signal);
    const ended = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
    // Killed by the signal itself after the clean-up, as a shell expects of an interrupted program: a loop stops on Ctrl-C.
    expect(ended).toEqual([null, signal]);
    expect(stderr).toContain(`interrupted (${signal}); no output was left behind`);
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('a named pipe as input or output (mkfifo, <(zcat x.pcap.gz))', () => {
    /** Starts the CLI; resolves how it ended and what it said on stderr. */
    function run(args: string[], after?: (child: ReturnType<typeof cliAsync>) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }> {
      const child = cliAsync(args);
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      after?.(child);
      return new Promise((r) => child.on('close', (code, signal) => r({ code, signal, stdout: Buffer.concat(out), stderr })));
    }
    const fifo = (dir: string, name: string): string => {
      const p = join(dir, name);
      execFileSync('mkfifo', [p]);
      return p;
    };

    it('is read as a file is: the same report, the same rewritten bytes', async () => {
      const dir = tempDir();
      const input = fifo(dir, 'in.pcapng');
      const feed = (): void => void spawn('sh', ['-c', `cat "${PCAPNG}" > "${input}"`]);
      const viaFifo = await run(['verify', input, '--report', 'json'], feed);
      const direct = cli(['verify', PCAPNG, '--report', 'json']);
      expect([viaFifo.code, direct.code]).toEqual([1, 1]); // its IPv4 checksums of 0x0000
      const strip = (j: { input: { path?: string } }): unknown => ({ ...j, input: { ...j.input, path: '' } });
      expect(strip(JSON.parse(viaFifo.stdout.toString()))).toEqual(strip(JSON.parse(direct.stdout.toString())));
      const rewritten = await run([input, '-', '-r', NOMATCH, '-q'], feed);
      expect(rewritten.code).toBe(0);
      expect(Buffer.compare(rewritten.stdout, readFileSync(PCAPNG))).toBe(0);
    });

    it('Ctrl-C ends a run that waits for a writer that never comes', async () => {
      const dir = tempDir();
      const input = fifo(dir, 'nobody-writes.pcap');
      const r = await run(['verify', input], (child) => setTimeout(() => child.kill('SIGINT'), 1000));
      expect([r.code, r.signal]).toEqual([null, 'SIGINT']);
      expect(r.stderr).toContain('interrupted (SIGINT); no output was left behind');
    });

    it('SIGTERM ends a run whose output pipe has no reader, and leaves nothing behind', async () => {
      const dir = tempDir();
      const output = fifo(dir, 'nobody-reads.pcapng');
      const r = await run([PCAPNG, output, '-r', NOMATCH], (child) => setTimeout(() => child.kill('SIGTERM'), 1000));
      expect([r.code, r.signal]).toEqual([null, 'SIGTERM']);
      expect(readdirSync(dir)).toEqual(['nobody-reads.pcapng']);
    });
  });
});

describe('reports', () => {
  it('--report json follows the contract', () => {
    const dir = tempDir();
    const r = cli([PCAPNG, join(dir, 'o.pcapng'), '-r', NOMATCH, '--report', 'json', '-q']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(Object.keys(report)).toEqual(['tool', 'version', 'command', 'input', 'output', 'direction', 'rules', 'ruleHits', 'summary', 'verdict', 'findings', 'collisions']);
    expect(report.verdict).toEqual({ result: 'ok', exitCode: 0, strict: false, why: 'rewritten; the output was not verified (add --verify to check it)' });
    expect(report.tool).toBe('ssnat-rewrite');
    expect(report.input.format).toBe('pcapng');
    // Five interface descriptions in three sections; Wireshark numbers them per section, and the
    // repeated descriptions are one interface each; the later interface under id 0 names its section.
    expect(report.input.interfaces).toEqual([
      { id: 0, name: 'eth0', linkType: 1 },
      { id: 1, name: 'null1', linkType: 0 },
      { id: 0, name: 'silly ethernet interface 2', linkType: 1, section: 2 },
    ]);
    expect(report.rules).toEqual([NOMATCH]);
    expect(report.summary.packets).toBe(8);
    expect(existsSync(join(dir, 'o.pcapng'))).toBe(true);
  });
});

describe('the summary line', () => {
  it('counts packets and the rewritten addresses by kind', () => {
    const r = cli([join(ROOT, 'fixtures/golden/ssnat/host.pcapng'), join(tempDir(), 'g.pcapng'), '-d', 'host-to-guest', '-r', '10.0.0.0/24=192.168.10.0/24@tap0', '-r', 'fd00::/64=fd00:10::/64@tap0']);
    expect(r.code).toBe(0);
    expect(r.stderr.split(';')[0]).toBe(
      'ssnat-rewrite: 84 packets, 28 rewritten (ipv4.src 17, ipv4.dst 17, arp.sender 2, arp.target 2, icmp.inner-ipv4.src 1, icmp.inner-ipv4.dst 1, ipv6.src 9, ipv6.dst 8, icmp.inner-ipv6.src 1, icmp.inner-ipv6.dst 1, ndp.target 2)',
    );
    expect(r.stderr).toMatch(/ MB in \d+\.\d\d s \([\d,]+ packets\/s\) -> .*g\.pcapng\n$/);
  });
});

describe('progress', () => {
  it('--progress prints the bar even where stderr is no terminal (CI logs), ending at 100%', () => {
    const r = cli([join(ROOT, 'fixtures/golden/ssnat/host.pcapng'), join(tempDir(), 'p.pcapng'), '-r', '10.0.0.0/24=192.168.10.0/24@tap0', '--progress']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ 100% \| 0\.0 MB \| 0s left\n/);
  });
  it('without it, a non-terminal stderr gets no bar', () => {
    const r = cli([join(ROOT, 'fixtures/golden/ssnat/host.pcapng'), join(tempDir(), 'p.pcapng'), '-r', '10.0.0.0/24=192.168.10.0/24@tap0']);
    expect(r.stderr).not.toContain('%');
  });
});

describe('reports are deterministic (so CI can diff them)', () => {
  it('two verify runs print the same JSON, byte for byte', () => {
    const args = ['verify', join(ROOT, 'fixtures/golden/collision/host.pcapng'), '--report', 'json'];
    const a = cli(args);
    const b = cli(args);
    expect(a.code).toBe(1); // the capture shows the clones' bug
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a.stdout, b.stdout)).toBe(0);
  });
});

describe('--rules-file', () => {
  const HOST = join(ROOT, 'fixtures/golden/ssnat/host.pcapng');
  it('reads rules with comments and names file and line in an error', () => {
    const dir = tempDir();
    const rules = join(dir, 'rules.txt');
    writeFileSync(rules, '# taps\n10.0.0.0/24=192.168.10.0/24@tap0  # clone 0\n\n10.0.0.0/24=192.168.11.0/23@tap1\n');
    const r = cli([HOST, join(dir, 'o.pcapng'), '--rules-file', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`ssnat-rewrite: ${rules}:4: rule "10.0.0.0/24=192.168.11.0/23@tap1": prefix lengths differ (/24 vs /23)`);
    writeFileSync(rules, '# taps\n10.0.0.0/24=192.168.10.0/24@tap0  # clone 0\n10.0.0.0/24=192.168.11.0/24@tap1\n');
    expect(cli([HOST, join(dir, 'o.pcapng'), '--rules-file', rules, '-q']).code).toBe(0);
  });
  it('a scope naming an interface the capture lacks: exit 2, no output, the interfaces it has', () => {
    const dir = tempDir();
    const rules = join(dir, 'rules.txt');
    writeFileSync(rules, '10.0.0.0/24=192.168.10.0/24@tap0\n10.0.0.0/24=192.168.19.0/24@tap9\n');
    const r = cli([HOST, join(dir, 'o.pcapng'), '--rules-file', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ssnat-rewrite: ${rules}:2: rule "10.0.0.0/24=192.168.19.0/24@tap9" names an interface the capture does not have (it has: tap0 (#0), tap1 (#1), tap2 (#2))\n`);
    expect(readdirSync(dir)).toEqual(['rules.txt']);
  });
});
