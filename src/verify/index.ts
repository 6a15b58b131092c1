/** The verifier: checksum, ARP, collision and leak checks (docs/DESIGN.md part 1 "Checks"). */
export { Verifier, DEFAULT_VERIFIER_OPTIONS, type VerifierOptions, type VerifySummary } from './verifier.js';
export { ChecksumChecker } from './checksums.js';
export { Reassembler } from './reassembly.js';
export { ArpChecker } from './arp.js';
export { CollisionTracker } from './collisions.js';
export { LeakChecker } from './leaks.js';
export { KeyTable } from './keytable.js';
