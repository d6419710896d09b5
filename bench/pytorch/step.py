#!/usr/bin/env python3
"""PyTorch reference for bench/step.ts: the same training step with the same shapes and ops.

One forward + backward + plain-SGD update of: embedding gather from an 8k vocabulary (d 512), two
causal ResMLP blocks (timm's ResBlock: Affine, linear_tokens masked to its lower triangle, LayerScale,
Mlp d->2048->d with exact GELU), output projection tied to the embedding, label-smoothed
cross-entropy (eps 0.1) over the 8k vocabulary. Batch 32 x 32 tokens.
Prints one JSON line: {"stepMs": median wall ms, "cpuMs": median process CPU ms, ...} or {"error": "..."}. Installs nothing.
Run: /usr/bin/python3 bench/pytorch/step.py --threads 2 --reps 5
"""
import argparse
import json
import os
import statistics
import sys
import time

B, T, D, H, BLOCKS, V, EPS, LR = 32, 32, 512, 2048, 2, 8000, 0.1, 1e-3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "resmlp"))
        from timm_resmlp import Affine, Mlp  # timm's layers, as the parity fixtures use them
    except ImportError as e:
        print(json.dumps({"error": f"PyTorch is not installed ({e}); install it with: apt-get install python3-torch"}))
        return 0

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    class CausalResBlock(nn.Module):
        def __init__(self, dim, seq_len, hidden, init_values=0.1):
            super().__init__()
            self.norm1 = Affine(dim)
            self.linear_tokens = nn.Linear(seq_len, seq_len)
            self.norm2 = Affine(dim)
            self.mlp_channels = Mlp(dim, hidden)
            self.ls1 = nn.Parameter(init_values * torch.ones(dim))
            self.ls2 = nn.Parameter(init_values * torch.ones(dim))
            self.register_buffer("mask", torch.tril(torch.ones(seq_len, seq_len)))

        def forward(self, x):
            # A (L, L) over the token axis of x (B, L, d): a broadcast batched matmul, as ours
            a = self.linear_tokens.weight * self.mask
            t = torch.matmul(a, self.norm1(x)) + self.linear_tokens.bias[:, None]
            x = x + self.ls1 * t
            x = x + self.ls2 * self.mlp_channels(self.norm2(x))
            return x

    class StepModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            nn.init.normal_(self.embed.weight, std=D ** -0.5)
            self.blocks = nn.ModuleList([CausalResBlock(D, T, H) for _ in range(BLOCKS)])

        def forward(self, ids, targets):
            h = self.embed(ids)
            for b in self.blocks:
                h = b(h)
            logits = h @ self.embed.weight.t()  # tied output projection
            return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), label_smoothing=EPS)

    model = StepModel()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, V, (B, T), generator=g)
    targets = torch.randint(0, V, (B, T), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(ids, targets)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    times, cpu = [], []
    for _ in range(args.reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)  # user + sys of all threads, as Node's cpuUsage
    print(json.dumps({"stepMs": statistics.median(times), "cpuMs": statistics.median(cpu), "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "reps": args.reps, "allMs": [round(t, 2) for t in times]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
