/**
 * A progress bar on stderr (only when asked for or when stderr is a
 * terminal). cli-progress is loaded lazily so that `--help` stays fast.
 */
import { stderr } from './stderr.js';

export interface Progress {
  update: (bytesRead: number, totalBytes: number | null) => void;
  stop: () => void;
}

type Bar = InstanceType<(typeof import('cli-progress'))['SingleBar']>;

/**
 * A bar on stderr with `format`. `forced`: asked for with --progress; where
 * stderr is no terminal the bar is then printed as a line per second.
 */
async function makeBar(format: string, forced: boolean): Promise<Bar> {
  const { default: cliProgress } = await import('cli-progress');
  return new cliProgress.SingleBar(
    {
      stream: stderr(),
      format,
      hideCursor: true,
      clearOnComplete: process.stderr.isTTY === true,
      fps: 10,
      etaBuffer: 50,
      noTTYOutput: forced && process.stderr.isTTY !== true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** The bar of a run over one capture: bytes read of its size. */
export async function startProgress(forced = false): Promise<Progress> {
  const bar = await makeBar(' {bar} {percentage}% | {mb} MB | {eta_formatted} left', forced);
  let started = false;
  return {
    update(bytesRead, totalBytes) {
      const total = totalBytes ?? Math.max(bytesRead, 1);
      if (!started) {
        bar.start(total, 0, { mb: '0.0' });
        started = true;
      }
      bar.setTotal(total);
      bar.update(bytesRead, { mb: (bytesRead / 1e6).toFixed(1) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A progress bar over a run of many files: files done of the total, bytes, rate and time left. */
export interface RunProgress {
  /** A file's bytes read so far (its input size, when known, is in `sizes`). */
  file: (index: number, bytesRead: number) => void;
  /** A file is done. */
  done: (index: number) => void;
  stop: () => void;
}

/**
 * `sizes`: each file's size (0 when unknown, e.g. gzip-compressed input,
 * whose progress is counted in compressed bytes): the bar's total.
 */
export async function startRunProgress(sizes: readonly number[], forced = false): Promise<RunProgress> {
  const total = Math.max(1, sizes.reduce((a, b) => a + b, 0));
  const bar = await makeBar(' {bar} {percentage}% | {files}/{count} files | {mb} MB | {rate} MB/s | {eta_formatted} left', forced);
  const read = new Float64Array(sizes.length);
  const started = Date.now();
  let bytes = 0;
  let files = 0;
  const payload = (): Record<string, string | number> => {
    const seconds = (Date.now() - started) / 1000;
    return { files, count: sizes.length, mb: (bytes / 1e6).toFixed(1), rate: seconds > 0 ? (bytes / 1e6 / seconds).toFixed(1) : '-' };
  };
  bar.start(total, 0, payload());
  return {
    file(index, bytesRead) {
      bytes += bytesRead - read[index]!;
      read[index] = bytesRead;
      bar.update(Math.min(bytes, total), payload());
    },
    done(index) {
      // A file whose size was not known counts for what was read.
      const size = sizes[index]!;
      if (size > 0 && read[index]! < size) {
        bytes += size - read[index]!;
        read[index] = size;
      }
      files++;
      bar.update(Math.min(bytes, total), payload());
    },
    stop() {
      bar.stop();
    },
  };
}
