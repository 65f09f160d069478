"""PyTorch peer for bench/train-step and bench/infer: the same UNet / HNN, loss and Adam as recist3d's engine.

Run by run.ts with Debian's /usr/bin/python3 (python3-torch, the same libtorch 1.13 build). Protocol: prints
`ready <parameterCount>` once built and warmed up, then answers each stdin line `rep` with the images/s of
`--steps` training steps (`--mode infer`: the ms per ROI of one batched prediction), so the two engines can
alternate repetitions under the same machine load.
"""
import argparse
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu2(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def up_to(x, h, w):
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


class UNet(nn.Module):  # native/nets.cc UNet
    def __init__(self, cin, base, depth):
        super().__init__()
        width = [base << i for i in range(depth)]
        self.down = nn.ModuleList(conv_bn_relu2(cin if i == 0 else width[i - 1], width[i]) for i in range(depth))
        self.up = nn.ModuleList(conv_bn_relu2(width[i + 1] + width[i], width[i]) for i in range(depth - 2, -1, -1))
        self.head = nn.Conv2d(width[0], 1, 1)

    def forward(self, x):
        skips, h = [], x
        for i, block in enumerate(self.down):
            if i > 0:
                h = F.max_pool2d(h, 2)
            h = block(h)
            skips.append(h)
        for k, block in enumerate(self.up):
            skip = skips[len(skips) - 2 - k]
            h = block(torch.cat([up_to(h, skip.shape[2], skip.shape[3]), skip], 1))
        return [self.head(h)]


class HNN(nn.Module):  # native/nets.cc HNN
    def __init__(self, cin, base, depth):
        super().__init__()
        mult, convs = [1, 2, 4, 8, 8], [2, 2, 3, 3, 3]
        self.stages, self.sides, c = nn.ModuleList(), nn.ModuleList(), cin
        for s in range(depth):
            out = base * mult[min(s, 4)]
            layers = []
            for k in range(convs[min(s, 4)]):
                layers += [nn.Conv2d(c if k == 0 else out, out, 3, padding=1), nn.ReLU(inplace=True)]
            self.stages.append(nn.Sequential(*layers))
            self.sides.append(nn.Conv2d(out, 1, 1))
            c = out
        self.fuse = nn.Conv2d(depth, 1, 1)
        with torch.no_grad():
            self.fuse.weight.fill_(1.0 / depth)
            self.fuse.bias.zero_()

    def forward(self, x):
        h, w = x.shape[2], x.shape[3]
        outs, f = [], x
        for s, (stage, side) in enumerate(zip(self.stages, self.sides)):
            if s > 0:
                f = F.max_pool2d(f, 2)
            f = stage(f)
            o = side(f)
            outs.append(o if s == 0 else up_to(o, h, w))
        outs.append(self.fuse(torch.cat(outs, 1)))
        return outs


def seg_loss(logits, y, w):  # native/nets.cc segLoss, balanced=False
    n = y.shape[0]
    z, yf, wf = logits.reshape(n, -1), y.reshape(n, -1), w.reshape(n, -1)
    w_pos = wf * yf
    w_neg = wf - w_pos
    den = wf.sum(1)
    num = (w_pos * F.softplus(-z) + w_neg * F.softplus(z)).sum(1)
    return torch.where(den > 0, num / den.clamp_min(1e-12), torch.zeros_like(num)).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="unet")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--depth", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--mode", default="train", help="train: images/s of training steps; infer: ms per ROI")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(a.threads)
    torch.manual_seed(0)
    depth = a.depth or (4 if a.arch == "unet" else 5)
    model = (UNet if a.arch == "unet" else HNN)(1, a.base, depth)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(a.batch, 1, a.size, a.size, generator=g)
    y = (torch.rand(a.batch, a.size, a.size, generator=g) > 0.5).float()
    w = torch.ones_like(y)

    def step():
        model.train()
        opt.zero_grad()
        outs = model(x)
        loss = sum(seg_loss(o, y, w) for o in outs) / len(outs)
        loss.backward()
        opt.step()
        return loss.item()

    if a.mode == "infer":
        return serve_inference(model, x, a)

    def train_rep():
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        return f"{a.steps * a.batch / (time.perf_counter() - t0):.3f}"

    serve(model, lambda: [step() for _ in range(a.warmup)], train_rep)


def serve(model, warm_up, rep):
    """The protocol of run.ts: warm up, print `ready <parameters> torch=<version>`, then answer each stdin
    line `rep` with the number rep() measures, until any other line or EOF."""
    warm_up()
    print(f"ready {sum(p.numel() for p in model.parameters())} torch={torch.__version__}", flush=True)
    for line in sys.stdin:
        if line.strip() != "rep":
            break
        print(rep(), flush=True)


def serve_inference(model, x, a):
    """bench/infer: each `rep` -> ms per ROI of one batched prediction (fused output, sigmoid).

    Uses the fastest CPU setup we know for this PyTorch: eval mode, no_grad and channels-last (NHWC) weights
    and inputs, which oneDNN runs without layout reorders (measured ~1.5x faster than NCHW here).
    """
    model.eval()
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)

    def predict():
        with torch.no_grad():
            return torch.sigmoid(model(x)[-1]).contiguous()

    def infer_rep():
        t0 = time.perf_counter()
        predict()
        return f"{(time.perf_counter() - t0) * 1000 / a.batch:.4f}"

    serve(model, lambda: [predict() for _ in range(max(1, a.warmup))], infer_rep)


if __name__ == "__main__":
    main()
