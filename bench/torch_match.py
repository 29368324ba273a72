#!/usr/bin/env python3
"""Full-batch SGD in PyTorch, float64, from a pctrain init file.

bench/torch_match.sh uses it to check that pctrain's bp, zil and fa-zil end
where PyTorch's autograd ends on the model types whose graphs pctrain builds
itself (rnn, lstm, resmlp, a hand-written graph): the same model written as
a PyTorch user would, the same initial weights (read from the safetensors
file pctrain wrote), the same full batch, plain SGD on the mean
cross-entropy. Writes the final weights as safetensors under pctrain's
names.
"""
import argparse
import json
import struct

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or name.startswith(("optim.", "feedback.")):
            continue  # optimizer state and rule buffers: not model weights
        dt = {"F64": np.float64, "F32": np.float32}[e["dtype"]]
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype=dt).reshape(e["shape"]).astype(np.float64).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().numpy().astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


ACT = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
       "gelu": F.gelu, "linear": lambda x: x}  # gelu: the exact x·Φ(x), as pctrain


def forward(kind, p, x, a):
    lin = lambda name, v: F.linear(v, p[name + ".weight"], p.get(name + ".bias"))
    if kind == "rnn":  # a_t = W_x x_t + W_h tanh(a_{t-1}) + b
        d = x.shape[1] // a.steps
        z = None
        for t in range(a.steps):
            u = F.linear(x[:, t * d:(t + 1) * d], p["rnn.x.weight"], p.get("rnn.bias"))
            z = u if z is None else u + F.linear(torch.tanh(z), p["rnn.h.weight"])
        return lin("head", torch.tanh(z))
    if kind == "lstm":  # gates i, f, g, o as torch.nn.LSTM
        d, h = x.shape[1] // a.steps, a.hidden
        hs = c = None
        for t in range(a.steps):
            z = F.linear(x[:, t * d:(t + 1) * d], p["lstm.x.weight"], p.get("lstm.bias"))
            if hs is not None:
                z = z + F.linear(hs, p["lstm.h.weight"])
            i, f, g, o = z[:, :h], z[:, h:2 * h], z[:, 2 * h:3 * h], z[:, 3 * h:]
            m = torch.sigmoid(i) * torch.tanh(g)
            c = m if c is None else m + torch.sigmoid(f) * c
            hs = torch.sigmoid(o) * torch.tanh(c)
        return lin("head", hs)
    if kind == "resmlp":  # r' = r + W2 φ(W1 φ(r) + b1) + b2
        act = ACT[a.activation]
        r = lin("stem", x)
        for k in range(1, a.blocks + 1):
            r = r + lin(f"block{k}.fc2", act(lin(f"block{k}.fc1", act(r))))
        return lin("head", act(r))
    if kind == "graph-skip":  # configs/mnist-graph-skip.yaml
        h1 = lin("h1", x)
        h2 = lin("h2", F.gelu(h1))
        return lin("out", F.gelu(h2 + h1))
    raise SystemExit(f"unknown model {kind}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sgd-steps", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--activation", default="tanh")
    a = ap.parse_args()
    p = {k: v.requires_grad_() for k, v in read_safetensors(a.init).items()}
    d = np.load(a.data)
    x = torch.from_numpy(d["x_train"].reshape(len(d["x_train"]), -1).astype(np.float64))
    y = torch.from_numpy(d["y_train"].astype(np.int64))
    for _ in range(a.sgd_steps):
        loss = F.cross_entropy(forward(a.model, p, x, a), y)
        for v in p.values():
            v.grad = None
        loss.backward()
        with torch.no_grad():
            for v in p.values():
                v -= a.lr * v.grad
    write_safetensors(a.out, p)


if __name__ == "__main__":
    main()
