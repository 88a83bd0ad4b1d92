"""A plain PyTorch training step of msmoe's `tiny` / `mini` LM shapes, for bench:train's column.

The same model as @msmoe/models' MoELanguageModel in its `reference` structure with the SMoE
(residual) rule: untied embedding, span attention over [cache, block] with learned relative key
embeddings, the authors' top-2 gate (softmax over the two chosen logits), ReLU experts with
d_inner = d run on exactly their tokens, post-LN double residual, full softmax over the vocabulary,
Adam. Written the way a PyTorch user would (no fused kernels, no compilation).

Usage: /usr/bin/python3 bench/python/lm_train.py <preset> <threads> <steps> [vocab]
Prints JSON: {"torch": version, "preset", "threads", "tokensPerSec", "msPerStep"}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "tiny": dict(d=64, heads=4, layers=2, experts=4, block=32, span=32, batch=8),
    "mini": dict(d=128, heads=4, layers=3, experts=8, block=64, span=64, batch=8),
}


class SpanAttention(nn.Module):
    def __init__(self, d, heads, span):
        super().__init__()
        self.h, self.dh, self.span = heads, d // heads, span
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.key_pe = nn.Parameter(torch.randn(self.dh, span))

    def forward(self, h, cache):
        B, M, d = h.shape
        S, H, dh = self.span, self.h, self.dh
        allh = torch.cat([cache, h], 1)  # [B, S + M, d]
        q = self.q(h).view(B, M, H, dh).transpose(1, 2)  # [B, H, M, dh]
        k = self.k(allh).view(B, S + M, H, dh).transpose(1, 2)
        v = self.v(allh).view(B, S + M, H, dh).transpose(1, 2)
        content = q @ k.transpose(-1, -2)  # [B, H, M, S + M]
        pos_band = q @ self.key_pe  # [B, H, M, S]
        # Transformer-XL's skew: row i reads pos_band[i, j - i - 1] at key j.
        pos = F.pad(pos_band, (1, M)).reshape(B, H, -1)[..., : M * (S + M)].reshape(B, H, M, S + M)
        i = torch.arange(M).unsqueeze(1)
        j = torch.arange(S + M).unsqueeze(0)
        rel = j - i - 1
        mask = ((rel >= 0) & (rel < S)).to(h.dtype)
        scores = (content + pos) / math.sqrt(dh) + (1 - mask) * -1e9
        attn = F.softmax(scores, -1)
        out = (attn @ v).transpose(1, 2).reshape(B, M, d)
        return self.o(out), allh[:, -S:].detach()


class MoE(nn.Module):
    def __init__(self, d, experts, k=2):
        super().__init__()
        self.k, self.E = k, experts
        self.gate = nn.Linear(d, experts)
        bound = 1 / math.sqrt(d * d)
        self.w1 = nn.Parameter(torch.empty(experts, d, d).uniform_(-bound, bound))
        self.b1 = nn.Parameter(torch.zeros(experts, d))
        self.w2 = nn.Parameter(torch.empty(experts, d, d).uniform_(-bound, bound))
        self.b2 = nn.Parameter(torch.zeros(experts, d))

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        top, idx = self.gate(x).topk(self.k, -1)
        gates = F.softmax(top, -1)
        out = torch.zeros_like(x)
        for e in range(self.E):
            rows, slot = (idx == e).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            y = F.relu(x[rows] @ self.w1[e] + self.b1[e]) @ self.w2[e] + self.b2[e]
            out.index_add_(0, rows, y * gates[rows, slot].unsqueeze(1))
        return out.reshape(shape)


class LM(nn.Module):
    def __init__(self, vocab, d, heads, layers, experts, span, **_):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.attn = nn.ModuleList([SpanAttention(d, heads, span) for _ in range(layers)])
        self.ln_a = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.moe = nn.ModuleList([MoE(d, experts) for _ in range(layers)])
        self.ln_inner = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.ln_out = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.out = nn.Linear(d, vocab)

    def forward(self, tokens, caches):
        h = self.emb(tokens)
        new = []
        for i in range(len(self.attn)):
            a, c = self.attn[i](h, caches[i])
            new.append(c)
            h = self.ln_a[i](h + a)
            u = self.moe[i](h)  # SMoE: the residual rule in the authors' post-LN structure
            h = self.ln_out[i](h + self.ln_inner[i](h + u))
        return self.out(h), new


def main():
    preset, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    vocab = int(sys.argv[4]) if len(sys.argv) > 4 else 10001
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    p = PRESETS[preset]
    model = LM(vocab, **p)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    B, M, S, d = p["batch"], p["block"], p["span"], p["d"]
    caches = [torch.zeros(B, S, d) for _ in range(p["layers"])]
    gen = torch.Generator().manual_seed(1)
    warm = 3
    for step in range(warm + steps):
        if step == warm:
            t0 = time.perf_counter()
        tokens = torch.randint(0, vocab, (B, M + 1), generator=gen)
        logits, caches = model(tokens[:, :-1], caches)
        loss = F.cross_entropy(logits.reshape(-1, vocab), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
    ms = (time.perf_counter() - t0) * 1000 / steps
    print(json.dumps({"torch": torch.__version__, "preset": preset, "threads": threads,
                      "tokensPerSec": B * M / ms * 1000, "msPerStep": ms}))


if __name__ == "__main__":
    main()
