/** Options of `recist3d serve` and their defaults (kept apart from the server so the CLI loads it cheaply). */
import { WEB_DIR } from './assets.js';

export interface ServeOptions {
  /** Manifest of the run; default: the one metrics.json records. */
  manifest?: string;
  /** Address to bind; anything but loopback requires the access token. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Access token; default: none on loopback, a random one on any other address. */
  token?: string;
  /** Decoded images and masks kept in memory, in MiB. */
  cacheMb?: number;
  /** Largest request body accepted, in bytes (answers are a few dozen). */
  bodyLimit?: number;
  /** Folder of the built web app. */
  webDir?: string;
}

export const SERVE_DEFAULTS = {
  manifest: '',
  host: '127.0.0.1',
  port: 8080,
  token: '',
  cacheMb: 1024,
  bodyLimit: 16 * 1024,
  webDir: WEB_DIR,
} satisfies Required<ServeOptions>;
