#!/usr/bin/env node
/**
 * The benchmark (issue 6): times our rewrite and verify against
 * tcprewrite --pnat and tshark (when installed) and `cp` as the I/O floor,
 * alternating the commands in each round so that they share machine state.
 * Prints medians of wall and CPU time (user + sys, every thread and child
 * process), packets/s, MB/s, ratios and peak RSS.
 *
 *   npm run bench                 # 1M packets, 5 rounds, tshark once
 *   npm run bench -- --runs 9 --tshark-runs 3
 *   npm run bench -- --big        # also the 2 GB capture: peak RSS of a streaming rewrite
 *   npm run bench -- --tcprewrite PATH   # also another tcprewrite build (e.g. 4.5.5 -O2);
 *                                        # or SSNAT_BENCH_TCPREWRITE=PATH
 *   npm run bench -- --keep-env   # time Node with NODE_EXTRA_CA_CERTS as it is set
 *   npm run bench -- --suite-runs 3      # rounds of the 200-capture suite (0: skip it)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('--runs', '5'));
const TSHARK_RUNS = Number(opt('--tshark-runs', '1'));
const PACKETS = Number(opt('--packets', '1000000'));
const BIG = args.includes('--big');
const KEEP_ENV = args.includes('--keep-env');
const SUITE_RUNS = Number(opt('--suite-runs', '3'));
/** A second tcprewrite, e.g. 4.5.5 built -O2, the fastest C peer: never a dependency, only timed when given. */
const TCPREWRITE_PEER = opt('--tcprewrite', process.env.SSNAT_BENCH_TCPREWRITE || null);
const data = join(root, 'bench/data');
const cpus = availableParallelism();
/** Threads of the parallel rows: every core, and at least two. */
const JOBS = Math.max(2, cpus);
const tmp = join(data, 'tmp');
mkdirSync(tmp, { recursive: true });

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!existsSync('/usr/bin/time')) {
  console.error('bench needs GNU time for peak RSS: apt-get install time');
  process.exit(2);
}

function generate(file, extra) {
  if (existsSync(file)) return;
  const r = spawnSync(process.execPath, [join(root, 'bench/generate.mjs'), file, '--packets', String(PACKETS), ...extra], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const pcap = join(data, `bench-${PACKETS}.pcap`);
const pcapng = join(data, `bench-${PACKETS}.pcapng`);
generate(pcap, []);
generate(pcapng, ['--format', 'pcapng']);
// The same packets, each inside VXLAN (issue 23: within 1.3x of the plain rewrite).
const vxlanPcap = join(data, `bench-${PACKETS}-vxlan.pcap`);
generate(vxlanPcap, ['--vxlan']);

const BIN = join(root, 'bin/ssnat-rewrite.cjs');
const out = join(tmp, 'out');
const RULE = '10.0.0.0/24=192.168.0.0/24';
const node = process.execPath;

/**
 * The environment of the timed commands. NODE_EXTRA_CA_CERTS (set on machines
 * behind a TLS-inspecting proxy) makes every Node process parse those
 * certificates before it runs a line of JavaScript: 40-50 ms of CPU on the
 * development machine, which measures the machine's set-up, not the tool. It is
 * left out unless --keep-env, and the output says which.
 */
const env = { ...process.env };
const scrubbed = !KEEP_ENV && env.NODE_EXTRA_CA_CERTS !== undefined;
if (scrubbed) delete env.NODE_EXTRA_CA_CERTS;

/**
 * Runs a shell command under GNU time; returns wall seconds, CPU seconds (user
 * and sys: of every thread, and of every process of a pipeline) and peak RSS
 * (MB; of the largest process).
 */
function measure(shell) {
  // Every tool writes a fresh file: replacing an existing 150 MB file costs the
  // filesystem 60-80 ms of freeing, which is not the tool's work.
  rmSync(out, { force: true });
  // And the previous command's output is written back now, not by the kernel while this one runs.
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'sh', '-c', shell], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = r.stderr.trim().split('\n');
  const [user, sys, rssKb] = lines[lines.length - 1].split(' ').map(Number);
  if (r.status !== 0 && r.status !== 1) {
    console.error(`command failed (${r.status}): ${shell}\n${r.stderr}`);
    process.exit(1);
  }
  return { wall, user, sys, cpu: user + sys, rss: rssKb / 1024 };
}

const cases = [
  { name: 'cp (I/O floor)', file: pcap, cmd: `cp ${pcap} ${out}` },
  { name: 'cat | cat (pipe floor)', file: pcap, cmd: `cat ${pcap} | cat > ${out}` },
  // What any Node process costs to copy the file through one reused 2 MB buffer: start-up and the two kernel copies, no parsing.
  {
    name: 'node copy (Node I/O floor)',
    file: pcap,
    cmd: `${node} -e "const fs=require('fs'),i=fs.openSync(process.argv[1]),o=fs.openSync(process.argv[2],'w'),b=Buffer.allocUnsafe(2<<20);for(let n;(n=fs.readSync(i,b,0,b.length,null))>0;)fs.writeSync(o,b,0,n)" ${pcap} ${out}`,
  },
  // The fastest any Node process moves the file here: read ahead and written behind on the thread pool, as the pipeline does, nothing else.
  { name: 'node overlapped copy (Node floor)', file: pcap, cmd: `${node} ${join(root, 'bench/floor-copy.cjs')} ${pcap} ${out}` },
  // What any Node process costs between two pipes here, doing nothing but pass the bytes on.
  { name: 'cat | node pass-through | cat', file: pcap, cmd: `cat ${pcap} | ${node} -e "process.stdin.pipe(process.stdout)" | cat > ${out}` },
  { name: 'ssnat-rewrite rewrite pcap', file: pcap, cmd: `${node} ${BIN} ${pcap} ${out} -r ${RULE} -f -q` },
  { name: 'ssnat-rewrite rewrite pcapng', file: pcapng, cmd: `${node} ${BIN} ${pcapng} ${out} -r ${RULE} -f -q` },
  // Split on every core whatever the size (the default splits only larger captures, on more cores).
  { name: `ssnat-rewrite rewrite pcap --jobs ${JOBS}`, file: pcap, cmd: `${node} ${BIN} ${pcap} ${out} -r ${RULE} -f -q --jobs ${JOBS}` },
  { name: 'ssnat-rewrite rewrite - - (files)', file: pcap, cmd: `${node} ${BIN} - - -r ${RULE} -q < ${pcap} > ${out}` },
  { name: 'ssnat-rewrite rewrite - - (pipes)', file: pcap, cmd: `cat ${pcap} | ${node} ${BIN} - - -r ${RULE} -q | cat > ${out}` },
  { name: 'ssnat-rewrite rewrite pcap (VXLAN)', file: vxlanPcap, cmd: `${node} ${BIN} ${vxlanPcap} ${out} -r ${RULE} -f -q` },
  { name: 'ssnat-rewrite verify', file: pcap, cmd: `${node} ${BIN} verify ${pcap} --report json > /dev/null` },
  { name: 'ssnat-rewrite --help (startup)', file: null, cmd: `${node} ${BIN} --help > /dev/null` },
];
if (have('tcprewrite')) cases.push({ name: 'tcprewrite --pnat', file: pcap, cmd: `tcprewrite --pnat=10.0.0.0/24:192.168.0.0/24 -i ${pcap} -o ${out}` });
else console.error('tcprewrite not installed (apt-get install tcpreplay): skipped');
/** The tcprewrite given with --tcprewrite / SSNAT_BENCH_TCPREWRITE, named by its version. */
const PEER = 'tcprewrite 4.5.5 --pnat';
if (TCPREWRITE_PEER === null) {
  console.error(`${PEER}: skipped (give its path with --tcprewrite PATH or SSNAT_BENCH_TCPREWRITE=PATH)`);
} else if (!existsSync(TCPREWRITE_PEER)) {
  console.error(`${PEER}: skipped (${TCPREWRITE_PEER} does not exist)`);
} else {
  const v = spawnSync(TCPREWRITE_PEER, ['-V'], { encoding: 'utf8' });
  const version = /version: (\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? 'unknown';
  if (version !== '4.5.5') console.error(`${TCPREWRITE_PEER} is tcprewrite ${version}, timed as "${PEER}"`);
  cases.push({ name: PEER, file: pcap, cmd: `${TCPREWRITE_PEER} --pnat=10.0.0.0/24:192.168.0.0/24 -i ${pcap} -o ${out}` });
}
if (scrubbed) console.error('NODE_EXTRA_CA_CERTS is set: left out of the timed commands (--keep-env keeps it)');
const tshark = have('tshark')
  ? { name: 'tshark (checksums on)', file: pcap, cmd: `tshark -r ${pcap} -n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE > /dev/null 2>&1` }
  : null;
if (tshark === null) console.error('tshark not installed (apt-get install tshark): skipped');

const results = new Map(cases.map((c) => [c.name, []]));
if (tshark) results.set(tshark.name, []);
for (let round = 0; round < RUNS; round++) {
  for (const c of cases) results.get(c.name).push(measure(c.cmd));
  if (tshark && round < TSHARK_RUNS) results.get(tshark.name).push(measure(tshark.cmd));
  process.stderr.write(`round ${round + 1}/${RUNS} done\n`);
}
rmSync(out, { force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const med = (name, key = 'wall') => (results.has(name) && results.get(name).length ? median(results.get(name).map((r) => r[key])) : NaN);
const sizeMB = (f) => statSync(f).size / 1e6;

console.log(`\n${PACKETS.toLocaleString('en-US')} packets; pcap ${sizeMB(pcap).toFixed(1)} MB, pcapng ${sizeMB(pcapng).toFixed(1)} MB; ${RUNS} rounds (tshark ${Math.min(TSHARK_RUNS, RUNS)}), medians; node ${process.version}; ${cpus} cores${scrubbed ? '; NODE_EXTRA_CA_CERTS left out' : ''}\n`);
const rows = [['command', 'median s', 'packets/s', 'MB/s', 'user s', 'sys s', 'CPU s', 'peak RSS MB']];
for (const [name, rs] of results) {
  if (rs.length === 0) continue;
  const c = [...cases, tshark].find((x) => x && x.name === name);
  const m = median(rs.map((r) => r.wall));
  const rss = Math.max(...rs.map((r) => r.rss));
  const cpu = (k) => median(rs.map((r) => r[k])).toFixed(2);
  rows.push([name, m.toFixed(3), c.file ? Math.round(PACKETS / m).toLocaleString('en-US') : '-', c.file ? (sizeMB(c.file) / m).toFixed(0) : '-', cpu('user'), cpu('sys'), cpu('cpu'), rss.toFixed(0)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  '));

const ratio = (a, b, key = 'wall') => (Number.isFinite(med(a, key)) && Number.isFinite(med(b, key)) ? (med(a, key) / med(b, key)).toFixed(3) : 'n/a');
console.log('\nratios (targets in parentheses):');
console.log(`  rewrite / tcprewrite        ${ratio('ssnat-rewrite rewrite pcap', 'tcprewrite --pnat')}  (<= 0.33)`);
console.log(`  rewrite / ${PEER.replace(' --pnat', '')}  ${ratio('ssnat-rewrite rewrite pcap', PEER)}  (wall, <= 0.5)`);
console.log(`  rewrite / ${PEER.replace(' --pnat', '')}  ${ratio('ssnat-rewrite rewrite pcap', PEER, 'cpu')}  (CPU, user+sys, <= 1.0)`);
console.log(`  verify / tshark             ${ratio('ssnat-rewrite verify', 'tshark (checksums on)')}  (<= 0.04)`);
console.log(`  pcapng / pcap rewrite       ${ratio('ssnat-rewrite rewrite pcapng', 'ssnat-rewrite rewrite pcap')}  (<= 1.15)`);
console.log(`  VXLAN / plain rewrite       ${ratio('ssnat-rewrite rewrite pcap (VXLAN)', 'ssnat-rewrite rewrite pcap')}  (<= 1.3) the same packets, each inside VXLAN (50 bytes more each)`);
console.log(`  --jobs ${JOBS} / one thread       ${ratio(`ssnat-rewrite rewrite pcap --jobs ${JOBS}`, 'ssnat-rewrite rewrite pcap')}  wall; CPU ${ratio(`ssnat-rewrite rewrite pcap --jobs ${JOBS}`, 'ssnat-rewrite rewrite pcap', 'cpu')}`);
console.log(`  stdin->stdout / file->file  ${ratio('ssnat-rewrite rewrite - - (files)', 'ssnat-rewrite rewrite pcap')}  (<= 1.20) stdin and stdout redirected from/to files`);
console.log(`  stdin->stdout / file->file  ${ratio('ssnat-rewrite rewrite - - (pipes)', 'ssnat-rewrite rewrite pcap')}  (<= 1.20) cat | ssnat-rewrite - - | cat: two more processes on the cores`);
console.log(`    Node's pipe floor          ${ratio('cat | node pass-through | cat', 'ssnat-rewrite rewrite pcap')}  cat | node -e "process.stdin.pipe(process.stdout)" | cat, against our file->file rewrite`);
console.log(`  rewrite / cp                ${ratio('ssnat-rewrite rewrite pcap', 'cp (I/O floor)')}`);
console.log(`  rewrite / node copy         ${ratio('ssnat-rewrite rewrite pcap', 'node copy (Node I/O floor)')}  a Node process that only copies the file; it takes ${ratio('node copy (Node I/O floor)', PEER)} of ${PEER.replace(' --pnat', '')}'s time`);
console.log(`  rewrite / overlapped copy   ${ratio('ssnat-rewrite rewrite pcap', 'node overlapped copy (Node floor)')}  the fastest Node copy (reads ahead, writes behind); it alone takes ${ratio('node overlapped copy (Node floor)', PEER)} of ${PEER.replace(' --pnat', '')}'s wall time, leaving the rest of the 0.5x target for parsing and translating a million packets`);
console.log(`  --help startup              ${(med('ssnat-rewrite --help (startup)') * 1000).toFixed(0)} ms  (< 150 ms)`);

/**
 * A CI suite: 200 generated captures of 100 KB to 5 MB (sizes spread evenly
 * on a log scale, every fourth one pcapng, each with its own packets), verified
 * in one run with one worker and with every core, against a shell loop of one
 * process per capture: what a CI job did before `verify DIR`.
 */
if (SUITE_RUNS > 0) {
  const suite = join(data, 'suite-200');
  const files = [];
  for (let i = 0; i < 200; i++) {
    const bytes = 100e3 * 50 ** ((i * 0.6180339887) % 1);
    const file = join(suite, `c${String(i).padStart(3, '0')}.${i % 4 === 3 ? 'pcapng' : 'pcap'}`);
    files.push(file);
    if (existsSync(file)) continue;
    mkdirSync(suite, { recursive: true });
    const r = spawnSync(node, [join(root, 'bench/generate.mjs'), file, '--packets', String(Math.max(1, Math.round(bytes / 143.6))), '--seed', String(i), '--format', i % 4 === 3 ? 'pcapng' : 'pcap']);
    if (r.status !== 0) process.exit(1);
  }
  const total = files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  const halves = [0, 1].map((h) => {
    const list = join(data, `suite-half-${h}.txt`);
    writeFileSync(list, `${files.filter((_, i) => i % 2 === h).join('\n')}\n`);
    return list;
  });
  const allList = join(data, 'suite-all.txt');
  writeFileSync(allList, `${files.join('\n')}\n`);
  const sizes = files.map((f) => statSync(f).size / 1e6).sort((a, b) => a - b);
  const suiteCases = [
    { name: 'verify DIR --jobs 1', cmd: `${node} ${BIN} verify ${suite} --jobs 1 --report json > /dev/null` },
    { name: `verify DIR --jobs ${JOBS}`, cmd: `${node} ${BIN} verify ${suite} --jobs ${JOBS} --report json > /dev/null` },
    { name: 'shell loop, a process per file', cmd: `for f in ${suite}/*; do ${node} ${BIN} verify "$f" --report json > /dev/null || test $? -eq 1 || exit 2; done` },
    // What two cores give any Node program that reads the suite: a pass over every byte, nothing else, in one process and in two.
    { name: 'read and sum, one process', cmd: `${node} ${join(root, 'bench/floor-sum.cjs')} ${allList} > /dev/null` },
    { name: 'read and sum, two processes', cmd: `${node} ${join(root, 'bench/floor-sum.cjs')} ${halves[0]} > /dev/null & ${node} ${join(root, 'bench/floor-sum.cjs')} ${halves[1]} > /dev/null; wait` },
    // The machine's own ceiling for two at once: two processes that share nothing, half the files each.
    { name: 'two processes, half each', cmd: `(${node} ${BIN} verify --files-from ${halves[0]} --jobs 1 --report json > /dev/null & ${node} ${BIN} verify --files-from ${halves[1]} --jobs 1 --report json > /dev/null; r=$?; wait $! ; s=$?; test $r -le 1 && test $s -le 1)` },
  ];
  const rs = new Map(suiteCases.map((c) => [c.name, []]));
  for (let round = 0; round < SUITE_RUNS; round++) {
    for (const c of suiteCases) rs.get(c.name).push(measure(c.cmd));
    process.stderr.write(`suite round ${round + 1}/${SUITE_RUNS} done\n`);
  }
  const m = (name, key = 'wall') => median(rs.get(name).map((r) => r[key]));
  console.log(`\n200 CI-size captures (${sizes[0].toFixed(2)}-${sizes[sizes.length - 1].toFixed(2)} MB, ${total.toFixed(0)} MB in all), verify, ${SUITE_RUNS} rounds, medians:`);
  for (const c of suiteCases) console.log(`  ${c.name.padEnd(32)} ${m(c.name).toFixed(2)} s wall, ${m(c.name, 'cpu').toFixed(2)} s CPU, peak RSS ${Math.max(...rs.get(c.name).map((r) => r.rss)).toFixed(0)} MB`);
  console.log(`  --jobs 1 / --jobs ${JOBS}                ${(m('verify DIR --jobs 1') / m(`verify DIR --jobs ${JOBS}`)).toFixed(2)}x  (>= 1.7)`);
  console.log(`  shell loop / --jobs ${JOBS}              ${(m('shell loop, a process per file') / m(`verify DIR --jobs ${JOBS}`)).toFixed(2)}x  (> 1)`);
  console.log(`  --jobs 1 / two processes, half each  ${(m('verify DIR --jobs 1') / m('two processes, half each')).toFixed(2)}x  (what two at once can give our verify on this machine)`);
  console.log(`  read and sum: one / two processes    ${(m('read and sum, one process') / m('read and sum, two processes')).toFixed(2)}x  (what two at once give any Node program that reads the suite here)`);
}

if (BIG) {
  const big = join(data, 'bench-2g.pcap');
  generate(big, ['--bytes', String(2 * 1024 ** 3)]);
  const r = measure(`${node} ${BIN} ${big} ${out} -r ${RULE} -f -q`);
  const j = measure(`${node} ${BIN} ${big} ${out} -r ${RULE} -f -q --jobs ${JOBS}`);
  const p = measure(`cat ${big} | ${node} ${BIN} - - -r ${RULE} -q | cat > ${out}`);
  const v = measure(`${node} ${BIN} verify ${big} --report json > /dev/null`);
  rmSync(out, { force: true });
  console.log(`\n2 GB capture (${sizeMB(big).toFixed(0)} MB), peak RSS target <= 100 MB:`);
  console.log(`  rewrite file -> file   ${r.wall.toFixed(2)} s (CPU ${r.cpu.toFixed(2)} s), peak RSS ${r.rss.toFixed(0)} MB`);
  console.log(`    --jobs ${JOBS}             ${j.wall.toFixed(2)} s (CPU ${j.cpu.toFixed(2)} s), peak RSS ${j.rss.toFixed(0)} MB for ${JOBS} threads (${(j.rss / JOBS).toFixed(0)} MB per thread)`);
  console.log(`  rewrite pipe -> pipe   ${p.wall.toFixed(2)} s, peak RSS ${p.rss.toFixed(0)} MB (ours; GNU time reports the largest process of the pipeline)`);
  console.log(`  verify                 ${v.wall.toFixed(2)} s, peak RSS ${v.rss.toFixed(0)} MB (flow table and log bounded by --max-flows)`);
}
