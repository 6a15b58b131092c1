/**
 * A progress bar on stderr (only when asked for or when stderr is a
 * terminal). cli-progress is loaded lazily so that `--help` stays fast.
 */
export interface Progress {
  update: (bytesRead: number, totalBytes: number | null) => void;
  stop: () => void;
}

/** `forced`: asked for with --progress; where stderr is no terminal the bar is then printed as a line per second. */
export async function startProgress(forced = false): Promise<Progress> {
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | {mb} MB | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: process.stderr.isTTY === true,
      fps: 10,
      noTTYOutput: forced && process.stderr.isTTY !== true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
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
