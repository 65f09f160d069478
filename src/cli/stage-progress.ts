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
    stop() {
      bar?.stop();
    },
  };
}
