import cliProgress from 'cli-progress';

/** A progress reporter: a bar on a TTY, plain log lines (at most every ~10 %) otherwise. */
export interface Progress {
  /** Advance to `value` (absolute) with an optional short status text. */
  update(value: number, status?: string): void;
  /** Advance by `delta`. */
  increment(delta?: number, status?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Write to this stream (default stderr, so stdout stays clean for tables). */
  stream?: NodeJS.WriteStream;
  /** Force plain log lines even on a TTY. */
  plain?: boolean;
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const useBar = !options.plain && stream.isTTY === true && process.env.CI !== 'true';
  if (useBar) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(18)} {bar} {value}/{total} {percentage}% | eta {eta_formatted} | {status}`,
        stream,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { status: '' });
    let value = 0;
    return {
      update(v, status = '') {
        value = v;
        bar.update(v, { status });
      },
      increment(d = 1, status = '') {
        value += d;
        bar.update(value, { status });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let value = 0;
  let lastLogged = -1;
  const t0 = Date.now();
  const log = (status: string, force = false) => {
    const pct = total > 0 ? Math.floor((100 * value) / total) : 100;
    const bucket = Math.floor(pct / 10);
    if (!force && bucket === lastLogged) return;
    lastLogged = bucket;
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    stream.write(`[${label}] ${value}/${total} (${pct}%) ${secs}s${status ? ' ' + status : ''}\n`);
  };
  return {
    update(v, status = '') {
      value = v;
      log(status);
    },
    increment(d = 1, status = '') {
      value += d;
      log(status);
    },
    stop() {
      if (value !== total || lastLogged !== 10) log('done', true);
    },
  };
}

/**
 * For pipelines that learn their total only when they start calling back: the reporter is created on the first
 * `onProgress(done, total, status)` call; `stop()` is a no-op when it never was.
 */
export function lazyProgress(label: string): {
  onProgress: (done: number, total: number, status?: string) => void;
  stop: () => void;
} {
  let progress: Progress | undefined;
  return {
    onProgress: (done, total, status) => {
      progress ??= createProgress(label, total);
      progress.update(done, status);
    },
    stop: () => progress?.stop(),
  };
}
