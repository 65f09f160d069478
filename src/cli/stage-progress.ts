import type { WsssHooks } from '../pipeline/wsss.js';
import { createProgress, type Progress } from './progress.js';

/** Turns the orchestrator's hooks into one progress bar (or log lines) per stage. */
export function stageProgress(): WsssHooks & { stop(): void } {
  let bar: Progress | undefined;
  return {
    stage(name, total) {
      bar?.stop();
      bar = createProgress(name, total);
    },
    tick(done, status) {
      bar?.update(done, status);
    },
    stageEnd(name, seconds, info) {
      bar?.stop();
      bar = undefined;
      const extra = info && Object.keys(info).length ? ` ${JSON.stringify(info)}` : '';
      process.stderr.write(`[${name}] finished in ${seconds.toFixed(1)} s${extra}\n`);
    },
    log(message) {
      // on a terminal, clear the bar's line first; the bar redraws itself on its next update
      const clear = process.stderr.isTTY && process.env.CI !== 'true' ? '\r\x1b[K' : '';
      process.stderr.write(`${clear}${message}\n`);
    },
    stop() {
      bar?.stop();
    },
  };
}
