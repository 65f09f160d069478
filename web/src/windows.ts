/** Window presets (width / level in HU) and the keys that pick them. */
export interface WindowPreset {
  key: string;
  name: string;
  range: [number, number];
}

const wl = (width: number, level: number): [number, number] => [level - width / 2, level + width / 2];

export const WINDOW_PRESETS: WindowPreset[] = [
  { key: '1', name: 'lung', range: wl(1500, -600) },
  { key: '2', name: 'soft tissue', range: wl(400, 40) },
  { key: '3', name: 'bone', range: wl(1800, 400) },
  { key: '4', name: 'liver', range: wl(150, 30) },
];

/** The manifest's window for the lesion, else soft tissue. */
export function defaultWindow(manifestWindow: [number, number] | null): [number, number] {
  return manifestWindow ?? WINDOW_PRESETS[1].range;
}
