import { readNifti } from '../io/nifti.js';
import type { Volume } from '../types/volume.js';

export interface VolumeCacheOptions {
  /** Decoded voxel bytes kept in memory; the least recently used volumes are dropped past this. */
  maxBytes?: number;
}

const DEFAULTS = { maxBytes: 1024 * 1024 * 1024 } satisfies Required<VolumeCacheOptions>;

/**
 * Decoded NIfTI volumes by absolute path, least recently used dropped first. Concurrent requests for one file
 * share one read. A read that fails is not kept, so a file fixed on disk is read again.
 */
export class VolumeCache {
  private readonly entries = new Map<string, { volume: Promise<Volume>; bytes: number }>();
  private readonly maxBytes: number;
  private bytes = 0;

  constructor(options: VolumeCacheOptions = {}) {
    this.maxBytes = { ...DEFAULTS, ...options }.maxBytes;
  }

  get(path: string): Promise<Volume> {
    const hit = this.entries.get(path);
    if (hit) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit.volume;
    }
    const entry = { volume: readNifti(path), bytes: 0 };
    this.entries.set(path, entry);
    entry.volume.then(
      (v) => {
        if (this.entries.get(path) !== entry) return;
        entry.bytes = v.data.byteLength;
        this.bytes += entry.bytes;
        this.evict(path);
      },
      () => {
        if (this.entries.get(path) === entry) this.entries.delete(path);
      },
    );
    return entry.volume;
  }

  private evict(keep: string): void {
    for (const [p, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (p === keep) continue;
      this.entries.delete(p);
      this.bytes -= e.bytes;
    }
  }
}
