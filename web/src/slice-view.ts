/**
 * One axial view: NiiVue renders the CT slab (WebGL, from the NIfTI the server cut), and a 2D canvas on top
 * draws the RECIST marks and the mask contours along pixel edges, mapped through NiiVue's own voxel-to-canvas
 * transform so they stay on the voxels at any zoom. Mouse: wheel = slices, drag = window (width) / level.
 */
import { Niivue, SLICE_TYPE } from '@niivue/niivue';
import type { LesionInfo, SlabInfo } from '../../src/serve/api-types';
import { maskBox, maskEdges } from './contours';
import { timing } from './timing';

export interface ContourLayer {
  /** Bit of the packed mask bytes. */
  bit: number;
  color: string;
  visible: boolean;
}

export interface SliceViewData {
  /** NIfTI of slices ctRange of the image (default: the whole slab). */
  ct: ArrayBuffer;
  ctRange?: [number, number];
  masks: Uint8Array;
  slab: SlabInfo;
  keySlice: number | null;
  recist: LesionInfo['recist'];
  window: [number, number];
}

export const COLORS = { recist: '#ff4fd8', prediction: '#27d3ff', truth: '#ffd400' };

export class SliceView {
  readonly nv: Niivue;
  private data?: SliceViewData;
  /** Absolute slices held by the CT volume NiiVue has now (the masks always cover the whole slab). */
  private ct: [number, number] = [0, 0];
  /** Bumped by each CT volume taken in, so one that finishes after a newer one started is dropped. */
  private ctLoads = 0;
  /** Absolute slice index k of the image. */
  k = 0;
  win: [number, number] = [-160, 240];
  zoomed = false;
  recistVisible = true;
  layers: ContourLayer[] = [];
  /** Called after the slice or window changed by mouse, so linked views can follow. */
  onChange?: (v: SliceView) => void;

  private constructor(
    readonly root: HTMLElement,
    private readonly overlay: HTMLCanvasElement,
    nv: Niivue,
  ) {
    this.nv = nv;
  }

  static async create(root: HTMLElement): Promise<SliceView> {
    root.classList.add('slice-view');
    const gl = document.createElement('canvas');
    const overlay = document.createElement('canvas');
    overlay.className = 'overlay';
    root.append(gl, overlay);
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairWidth: 0,
      crosshairColor: [0, 0, 0, 0],
      show3Dcrosshair: false,
      isRadiologicalConvention: true,
      // drawn on the overlay at full resolution instead (the WebGL canvas may be coarser, see fitResolution)
      isOrientationTextVisible: false,
      logLevel: 'error',
      loadingText: '',
      isNearestInterpolation: true,
      dragAndDropEnabled: false,
      interactive: false,
      sliceType: SLICE_TYPE.AXIAL,
    });
    await nv.attachToCanvas(gl);
    const view = new SliceView(root, overlay, nv);
    if (timing.enabled)
      (window as unknown as { __recist3dViews: SliceView[] }).__recist3dViews = [
        ...((window as unknown as { __recist3dViews?: SliceView[] }).__recist3dViews ?? []),
        view,
      ];
    view.bindMouse();
    new ResizeObserver(() => {
      view.held(() => view.fitResolution());
      view.draw();
    }).observe(root);
    return view;
  }

  get slab(): SlabInfo | undefined {
    return this.data?.slab;
  }

  /**
   * Forgets the shown data while the next one loads: nothing is drawn (a reattached view would otherwise redraw
   * the previous lesion, costing a frame and showing the wrong lesion) and the canvases are hidden.
   */
  unload(): void {
    this.data = undefined;
    this.root.classList.add('unloaded');
    this.nv.isBusy = true;
  }

  /**
   * Runs `f` with NiiVue's own redraws held back: each of its setters (volume removed, added, pan, resolution)
   * draws the whole scene and waits for the GPU, five or more frames per lesion opened on a CPU renderer. The
   * caller draws once afterwards.
   */
  held(f: () => void): void {
    const was = this.nv.isBusy;
    this.nv.isBusy = true;
    try {
      f();
    } finally {
      this.nv.isBusy = was;
    }
  }

  async load(data: SliceViewData, startSlice?: number): Promise<void> {
    this.data = data;
    this.win = data.window;
    this.k = Math.min(data.slab.k1, Math.max(data.slab.k0, startSlice ?? data.keySlice ?? data.slab.k0));
    this.nv.isBusy = true;
    try {
      await this.setCt(data.ct, data.ctRange ?? [data.slab.k0, data.slab.k1]);
      if (this.zoomed) this.applyZoom();
      this.fitResolution();
    } finally {
      this.nv.isBusy = false;
    }
    this.root.classList.remove('unloaded');
    this.draw();
  }

  /** Swaps in a CT volume holding slices `range` (the whole slab after a thin one), keeping slice and view. */
  async replaceCt(ct: ArrayBuffer, range: [number, number]): Promise<void> {
    if (!this.data) return;
    this.nv.isBusy = true;
    try {
      await this.setCt(ct, range);
      if (this.zoomed) this.applyZoom();
    } finally {
      this.nv.isBusy = false;
    }
    this.draw();
  }

  private async setCt(ct: ArrayBuffer, range: [number, number]): Promise<void> {
    const mine = ++this.ctLoads;
    while (this.nv.volumes.length) this.nv.removeVolumeByIndex(0);
    this.ct = range;
    this.k = Math.min(range[1], Math.max(range[0], this.k));
    // the window goes in with the volume: one colour-map pass instead of a second one for the window
    const added = await this.nv.addVolumeFromUrl({
      url: 'slab.nii',
      name: 'slab.nii',
      buffer: ct,
      cal_min: this.win[0],
      cal_max: this.win[1],
      trustCalMinMax: true,
    });
    // a whole slab still arriving when the next lesion was opened: keep only the newest volume
    if (mine !== this.ctLoads) this.nv.removeVolume(added);
  }

  /** Shows slice k (clamped to the slices loaded); true when the slice changed. */
  setSlice(k: number): boolean {
    if (!this.data) return false;
    const [k0, k1] = this.ct;
    const next = Math.min(k1, Math.max(k0, k));
    if (next === this.k) return false;
    this.k = next;
    this.draw();
    return true;
  }

  step(delta: number): boolean {
    return this.setSlice(this.k + delta);
  }

  setWindow(win: [number, number]): void {
    this.win = [win[0], Math.max(win[0] + 1, win[1])];
    this.held(() => this.applyWindow());
    this.draw();
  }

  setZoom(zoomed: boolean): void {
    this.zoomed = zoomed;
    this.held(() => {
      if (zoomed) this.applyZoom();
      else this.nv.setPan2Dxyzmm([0, 0, 0, 1]);
      this.fitResolution();
    });
    this.draw();
  }

  /** Renders the current slice and the overlays; with timing on, waits for the GPU and records the time. */
  draw(): void {
    if (!this.data || !this.nv.volumes.length) return;
    const { slab } = this.data;
    const [ni, nj] = slab.size;
    this.nv.scene.crosshairPos = this.nv.vox2frac([(ni - 1) / 2, (nj - 1) / 2, this.k - this.ct[0]]);
    this.nv.drawScene();
    this.drawOverlay();
    if (timing.enabled) {
      const gl = this.nv.gl;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    }
    this.root.dataset.slice = String(this.k);
    this.root.dataset.window = `${Math.round(this.win[0])},${Math.round(this.win[1])}`;
    this.root.dataset.zoomed = String(this.zoomed);
  }

  /**
   * Renders the WebGL canvas at the data's resolution, not the screen's: 3 device pixels per visible voxel (at
   * most the screen's own), shown enlarged with crisp pixels. No detail is lost (the voxels are coarser than
   * that), and WebGL without a GPU (SwiftShader) draws a zoomed phantom ROI about 20 times faster: its cost is
   * per pixel. Contours, marks and text are drawn on the overlay at the screen's resolution.
   */
  fitResolution(): void {
    if (!this.data) return;
    const [ni, nj] = this.data.slab.size;
    const roi = this.zoomed ? this.roiBox() : [0, 0, ni, nj];
    const across = Math.max(roi[2] - roi[0], roi[3] - roi[1], 1);
    const css = Math.max(1, Math.min(this.root.clientWidth, this.root.clientHeight));
    const dpr = window.devicePixelRatio || 1;
    const ratio = Math.min(dpr, Math.max(0.25, Math.ceil(((3 * across) / css) * 20) / 20));
    if (ratio !== this.nv.opts.forceDevicePixelRatio) this.nv.setHighResolutionCapable(ratio);
  }

  private applyWindow(): void {
    const v = this.nv.volumes[0];
    if (!v) return;
    v.cal_min = this.win[0];
    v.cal_max = this.win[1];
    this.nv.updateGLVolume();
  }

  /** Voxel (slab coordinates i, j on slice k) to overlay canvas pixels, as an affine from three points. */
  private voxToCanvas(): ((i: number, j: number) => [number, number]) | undefined {
    // three voxels around the one at the canvas centre: NiiVue answers null for points outside the view
    const kk = this.k - this.ct[0];
    const c = this.nv.canvas!;
    const mid = this.nv.frac2vox(this.nv.canvasPos2frac([c.width / 2, c.height / 2]));
    const [i0, j0] = [Math.round(mid[0]), Math.round(mid[1])];
    const at = (i: number, j: number) => this.nv.frac2canvasPos(this.nv.vox2frac([i, j, kk]));
    const o = at(i0, j0);
    const a = at(i0 + 1, j0);
    const b = at(i0, j0 + 1);
    if (!o || !a || !b) return undefined;
    // WebGL canvas pixels to overlay pixels (the two may differ in resolution)
    const sx = this.overlay.width / c.width;
    const sy = this.overlay.height / c.height;
    const [ux, uy, vx, vy] = [a[0] - o[0], a[1] - o[1], b[0] - o[0], b[1] - o[1]];
    return (i, j) => [
      sx * (o[0] + ux * (i - i0) + vx * (j - j0)),
      sy * (o[1] + uy * (i - i0) + vy * (j - j0)),
    ];
  }

  private drawOverlay(): void {
    const c = this.overlay;
    const dpr = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(this.root.clientWidth * dpr), Math.round(this.root.clientHeight * dpr)];
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext('2d')!;
    ctx.clearRect(0, 0, c.width, c.height);
    if (!this.data) return;
    const { slab, masks, recist, keySlice } = this.data;
    const [ni, nj] = slab.size;
    const scale = window.devicePixelRatio || 1;
    ctx.fillStyle = '#fff';
    ctx.font = `${12 * scale}px sans-serif`;
    const keyMark = keySlice === this.k ? '  RECIST slice' : '';
    ctx.fillText(`slice ${this.k} (${slab.k0}-${slab.k1})${keyMark}`, 8 * scale, c.height - 8 * scale);
    // radiological convention, NiiVue shows the volume in RAS: patient right on the left, anterior at the top
    ctx.fillText('R', 8 * scale, c.height / 2);
    ctx.fillText('L', c.width - 16 * scale, c.height / 2);
    ctx.fillText('A', c.width / 2, 16 * scale);
    ctx.fillText(
      `W ${Math.round(this.win[1] - this.win[0])} L ${Math.round((this.win[0] + this.win[1]) / 2)}`,
      8 * scale,
      16 * scale,
    );
    const map = this.voxToCanvas();
    if (!map) return;
    ctx.lineWidth = 1.5 * scale;
    const offset = (this.k - slab.k0) * ni * nj;
    for (const layer of this.layers) {
      if (!layer.visible) continue;
      ctx.strokeStyle = layer.color;
      ctx.beginPath();
      for (const [x0, y0, x1, y1] of maskEdges(masks, ni, nj, offset, 1 << layer.bit)) {
        const p = map(x0, y0);
        const q = map(x1, y1);
        ctx.moveTo(p[0], p[1]);
        ctx.lineTo(q[0], q[1]);
      }
      ctx.stroke();
    }
    if (this.recistVisible && recist && keySlice === this.k) {
      ctx.strokeStyle = COLORS.recist;
      ctx.fillStyle = COLORS.recist;
      ctx.lineWidth = 2 * scale;
      for (const [p, q] of [recist.long, recist.short]) {
        const a = map(p[0], p[1]);
        const b = map(q[0], q[1]);
        ctx.beginPath();
        ctx.moveTo(a[0], a[1]);
        ctx.lineTo(b[0], b[1]);
        ctx.stroke();
        for (const e of [a, b]) ctx.fillRect(e[0] - 2 * scale, e[1] - 2 * scale, 4 * scale, 4 * scale);
      }
    }
  }

  /** The in-plane box of the masks and the RECIST, padded: what "zoom to ROI" shows. */
  roiBox(): [number, number, number, number] {
    const { slab, masks, recist } = this.data!;
    const [ni, nj] = slab.size;
    let box = maskBox(masks, ni, nj, 0xff);
    if (recist) {
      const pts = [...recist.long, ...recist.short];
      const r: [number, number, number, number] = [
        Math.min(...pts.map((p) => p[0])),
        Math.min(...pts.map((p) => p[1])),
        Math.max(...pts.map((p) => p[0])),
        Math.max(...pts.map((p) => p[1])),
      ];
      box = box
        ? [Math.min(box[0], r[0]), Math.min(box[1], r[1]), Math.max(box[2], r[2]), Math.max(box[3], r[3])]
        : r;
    }
    if (!box) return [0, 0, ni - 1, nj - 1];
    const side = Math.max(box[2] - box[0], box[3] - box[1], 16) * 1.8;
    const ci = (box[0] + box[2]) / 2;
    const cj = (box[1] + box[3]) / 2;
    return [ci - side / 2, cj - side / 2, ci + side / 2, cj + side / 2];
  }

  /**
   * Zooms so the ROI fills the view, centred. NiiVue's 2D view shows screen = (zoom * mm + pan - min) / fov, so
   * the pan that puts the ROI centre p in the middle of the field (centre c0) is c0 - zoom * p.
   */
  private applyZoom(): void {
    if (!this.data) return;
    const { slab } = this.data;
    const [i0, j0, i1, j1] = this.roiBox();
    const [ni, nj] = slab.size;
    const zoom = Math.max(1, Math.min(ni / (i1 - i0), nj / (j1 - j0)));
    const kk = this.k - this.ct[0];
    const p = this.nv.frac2mm(this.nv.vox2frac([(i0 + i1) / 2, (j0 + j1) / 2, kk]));
    const c0 = this.nv.frac2mm([0.5, 0.5, 0.5]);
    this.nv.setPan2Dxyzmm([c0[0] - zoom * p[0], c0[1] - zoom * p[1], 0, zoom]);
  }

  private bindMouse(): void {
    const el = this.overlay;
    el.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        this.step(e.deltaY > 0 ? -1 : 1);
        this.onChange?.(this);
      },
      { passive: false },
    );
    let drag: { x: number; y: number; win: [number, number] } | undefined;
    let pending: [number, number] | undefined;
    el.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, win: [...this.win] };
      el.setPointerCapture(e.pointerId);
    });
    el.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const width = Math.max(1, drag.win[1] - drag.win[0] + 4 * (e.clientX - drag.x));
      const level = (drag.win[0] + drag.win[1]) / 2 - 2 * (e.clientY - drag.y);
      // a new window recolours the whole slab: at most once a frame, with the latest position
      const first = pending === undefined;
      pending = [level - width / 2, level + width / 2];
      if (first)
        requestAnimationFrame(() => {
          this.setWindow(pending!);
          pending = undefined;
          this.onChange?.(this);
        });
    });
    const end = () => (drag = undefined);
    el.addEventListener('pointerup', end);
    el.addEventListener('pointercancel', end);
  }
}
