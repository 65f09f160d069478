"""cv2.grabCut on the ROIs dumped by bench/grabcut/bench.ts (run with Debian's /usr/bin/python3).

Usage: /usr/bin/python3 cv2_grabcut.py DIR [THREADS]
Reads DIR/rois.json ({n, h, w, iterations}) and DIR/rois.bin (n*h*w*3 BGR images, then n*h*w trimaps),
runs cv2.grabCut(..., GC_INIT_WITH_MASK) once per ROI, writes DIR/cv2_masks.bin (n*h*w, 1 = FG|PR_FG) and
prints JSON {"ms": [per-ROI milliseconds], "opencv": version} on stdout.
"""
import json
import sys
import time

import cv2
import numpy as np


def main() -> None:
    d = sys.argv[1]
    cv2.setNumThreads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    meta = json.load(open(f"{d}/rois.json"))
    n, h, w, it = meta["n"], meta["h"], meta["w"], meta["iterations"]
    raw = np.fromfile(f"{d}/rois.bin", dtype=np.uint8)
    images = raw[: n * h * w * 3].reshape(n, h, w, 3)
    trimaps = raw[n * h * w * 3 :].reshape(n, h, w)
    out = np.zeros((n, h, w), np.uint8)
    ms = []
    for k in range(n):
        img = np.ascontiguousarray(images[k])
        mask = trimaps[k].copy()
        bgd = np.zeros((1, 65), np.float64)
        fgd = np.zeros((1, 65), np.float64)
        t0 = time.perf_counter()
        cv2.grabCut(img, mask, None, bgd, fgd, it, cv2.GC_INIT_WITH_MASK)
        ms.append((time.perf_counter() - t0) * 1000)
        out[k] = mask & 1
    out.tofile(f"{d}/cv2_masks.bin")
    print(json.dumps({"ms": ms, "opencv": cv2.__version__}))


if __name__ == "__main__":
    main()
