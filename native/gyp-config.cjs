// Prints build settings for binding.gyp: which libtorch to compile against (Debian's by default,
// or the one under $LIBTORCH_DIR, e.g. an unpacked CUDA PyTorch wheel), and OpenCV from pkg-config.
// Usage: node native/gyp-config.cjs include|libs|ldflags|defines
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execSync } = require('node:child_process');

const what = process.argv[2];
const dir = process.env.LIBTORCH_DIR || '';
const libDir = dir ? path.join(dir, 'lib') : '/usr/lib/x86_64-linux-gnu';
const hasCuda = fs.existsSync(path.join(libDir, 'libtorch_cuda.so'));

function cxx11Abi() {
  // PyTorch wheels before 2.7 (and some later) are built with the old libstdc++ ABI; Debian's uses the new one.
  if (!dir) return 1;
  const cfg = path.join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  try {
    const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(cfg, 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* no cmake config: assume the new ABI */
  }
  return 1;
}

function opencv(flag) {
  try {
    return execSync(`pkg-config ${flag} opencv4`, { encoding: 'utf8' }).trim().split(/\s+/);
  } catch {
    return flag === '--cflags-only-I' ? ['-I/usr/include/opencv4'] : [];
  }
}

let out = [];
if (what === 'include') {
  const inc = dir ? path.join(dir, 'include') : '/usr/include';
  out = [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')];
  out.push(...opencv('--cflags-only-I').map((s) => s.replace(/^-I/, '')));
} else if (what === 'libs') {
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10', '-lopencv_imgproc', '-lopencv_core'];
  if (hasCuda) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  out = dir ? [`-L${libDir}`, ...libs] : libs;
  out.push(...opencv('--libs-only-L'));
} else if (what === 'ldflags') {
  out = dir ? [`-Wl,-rpath,${libDir}`] : [];
} else if (what === 'defines') {
  out = [`_GLIBCXX_USE_CXX11_ABI=${cxx11Abi()}`, `RECIST3D_WITH_CUDA=${hasCuda ? 1 : 0}`];
} else {
  process.stderr.write(`gyp-config: unknown query ${what}\n`);
  process.exit(1);
}
process.stdout.write(out.filter(Boolean).join(' ') + '\n');
