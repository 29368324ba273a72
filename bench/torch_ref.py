#!/usr/bin/python3
"""PyTorch reference for `make bench`: the training step pctrain's benchmarks
time, written as a PyTorch user would, printing samples/s as JSON.

  mlp  784-256-256-10, tanh, softmax cross-entropy, AdamW, batch 128, float32
       bp: autograd; pc: inference learning with T steps as explicit matmuls
       under no_grad (value-node SGD, then one AdamW step), as PERF-NOTES did;
       ipc: the same value-node steps with the weight gradient of every step
       and one AdamW step per inference step (RULES.md §1); epc: the errors
       as leaf tensors, their gradient from autograd, T steps, then IL's
       weight gradient at the final states (RULES.md §3)
  vgg5 PCX's VGG-5 on 3x32x32 inputs, gelu; bp: autograd; pc: T steps with
       the value-node gradients from autograd (how PC libraries do it)
  skipmlp  the depth curve's residual MLP (RULES.md §4, standard
       parameterisation, no biases): --depth hidden layers of 128 gelu units,
       Adam, batch 64; bp: autograd; epc: as for mlp

Random inputs and labels (speed does not depend on the data).
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp_bp(args):
    model = nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, 784)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def mlp_pc(args):
    sizes = [784, 256, 256, 10]
    lins = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    params = [p for l in lins for p in l.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    x0 = torch.randn(args.batch, 784)
    y = F.one_hot(torch.randint(0, 10, (args.batch,)), 10).float()
    T, lr, mom = args.T, 0.05, 0.5
    W = [l.weight for l in lins]
    b = [l.bias for l in lins]

    def step():
        with torch.no_grad():
            mu1 = x0 @ W[0].T + b[0]          # the clamped input's prediction, hoisted
            x1 = mu1.clone()
            mu2 = torch.tanh(x1) @ W[1].T + b[1]
            x2 = mu2.clone()
            v1 = torch.zeros_like(x1)
            v2 = torch.zeros_like(x2)
            for _ in range(T + 1):
                t1, t2 = torch.tanh(x1), torch.tanh(x2)
                mu2 = t1 @ W[1].T + b[1]
                mu3 = t2 @ W[2].T + b[2]
                e1, e2 = x1 - mu1, x2 - mu2
                e3 = y - torch.softmax(mu3, dim=1)
                if _ == T:
                    break
                g1 = e1 - (1 - t1 * t1) * (e2 @ W[1])
                g2 = e2 - (1 - t2 * t2) * (e3 @ W[2])
                v1.mul_(mom).add_(g1)
                v2.mul_(mom).add_(g2)
                x1.sub_(lr * v1)
                x2.sub_(lr * v2)
            B = args.batch
            W[0].grad = -(e1.T @ x0) / B
            b[0].grad = -e1.mean(0)
            W[1].grad = -(e2.T @ t1) / B
            b[1].grad = -e2.mean(0)
            W[2].grad = -(e3.T @ t2) / B
            b[2].grad = -e3.mean(0)
        opt.step()
    return step


def mlp_ipc(args):
    sizes = [784, 256, 256, 10]
    lins = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    params = [p for l in lins for p in l.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    x0 = torch.randn(args.batch, 784)
    y = F.one_hot(torch.randint(0, 10, (args.batch,)), 10).float()
    T, lr, mom, B = args.T, 0.05, 0.5, args.batch
    W = [l.weight for l in lins]
    b = [l.bias for l in lins]

    def step():
        with torch.no_grad():
            x1 = x0 @ W[0].T + b[0]
            x2 = torch.tanh(x1) @ W[1].T + b[1]
            v1 = torch.zeros_like(x1)
            v2 = torch.zeros_like(x2)
            for _ in range(T):
                # The weights move every step: every prediction is recomputed.
                t1, t2 = torch.tanh(x1), torch.tanh(x2)
                e1 = x1 - (x0 @ W[0].T + b[0])
                e2 = x2 - (t1 @ W[1].T + b[1])
                e3 = y - torch.softmax(t2 @ W[2].T + b[2], dim=1)
                g1 = e1 - (1 - t1 * t1) * (e2 @ W[1])
                g2 = e2 - (1 - t2 * t2) * (e3 @ W[2])
                W[0].grad = -(e1.T @ x0) / B
                b[0].grad = -e1.mean(0)
                W[1].grad = -(e2.T @ t1) / B
                b[1].grad = -e2.mean(0)
                W[2].grad = -(e3.T @ t2) / B
                b[2].grad = -e3.mean(0)
                v1.mul_(mom).add_(g1)
                v2.mul_(mom).add_(g2)
                x1.sub_(lr * v1)
                x2.sub_(lr * v2)
                opt.step()
    return step


def epc_step(layers, act, x0, target, opt, T, lr, mom):
    """ePC on a chain of layers (each layer(s_prev) -> mu); the output's
    loss is cross-entropy. layers[l] maps state l-1 (after act, except the
    input) to the prediction of state l."""
    B = x0.shape[0]

    def states(es):
        s, out = x0, []
        for l, f in enumerate(layers[:-1]):
            s = f(s if l == 0 else act(s), out) + es[l]
            out.append(s)
        return out, layers[-1](act(s), out)

    with torch.no_grad():
        ss, _ = states([0.0] * (len(layers) - 1))
    es = [torch.zeros_like(s) for s in ss]
    vs = [torch.zeros_like(s) for s in ss]
    for _ in range(T):
        for e in es:
            e.requires_grad_(True)
        ss, logits = states(es)
        E = 0.5 * sum((e * e).sum() for e in es) + F.cross_entropy(logits, target, reduction='sum')
        grads = torch.autograd.grad(E, es)
        with torch.no_grad():
            for e, v, g in zip(es, vs, grads):
                v.mul_(mom).add_(g)
                e.sub_(lr * v)
        es = [e.detach() for e in es]
    with torch.no_grad():
        ss, _ = states(es)
    # IL's weight gradient at x = s: each layer sees its inputs' states fixed.
    opt.zero_grad(set_to_none=True)
    prev = [x0] + [act(s) for s in ss]
    F_ = sum(0.5 * ((s - layers[l](prev[l], ss[:l])) ** 2).sum() for l, s in enumerate(ss))
    F_ = F_ + F.cross_entropy(layers[-1](prev[-1], ss), target, reduction='sum')
    (F_ / B).backward()
    opt.step()


def mlp_epc(args):
    sizes = [784, 256, 256, 10]
    lins = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
    opt = torch.optim.AdamW([p for l in lins for p in l.parameters()], lr=1e-4)
    x0 = torch.randn(args.batch, 784)
    y = torch.randint(0, 10, (args.batch,))
    layers = [lambda h, _, l=l: l(h) for l in lins]
    return lambda: epc_step(layers, torch.tanh, x0, y, opt, args.T, 0.01, 0.0)


class SkipMLP(nn.Module):
    """z_1 = W_1 x, z_l = z_{l-1} + W_l gelu(z_{l-1}), logits = W_out gelu(z_H)."""

    def __init__(self, depth, width=128):
        super().__init__()
        self.inp = nn.Linear(784, width, bias=False)
        self.hidden = nn.ModuleList(nn.Linear(width, width, bias=False) for _ in range(depth - 1))
        self.out = nn.Linear(width, 10, bias=False)

    def forward(self, x):
        z = self.inp(x)
        for l in self.hidden:
            z = z + l(F.gelu(z))
        return self.out(F.gelu(z))


def skipmlp_bp(args):
    model = SkipMLP(args.depth)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 784)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def skipmlp_epc(args):
    model = SkipMLP(args.depth)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x0 = torch.randn(args.batch, 784)
    y = torch.randint(0, 10, (args.batch,))
    # f_1(x) = W_1 x; f_l(s) = s_{l-1} + W_l gelu(s_{l-1}) (the skip reads
    # the state, the layer its activation); f_out = W_out gelu(s_H).
    layers = [lambda h, _: model.inp(h)]
    layers += [lambda h, ss, l=l: ss[-1] + l(h) for l in model.hidden]
    layers += [lambda h, _: model.out(h)]
    return lambda: epc_step(layers, F.gelu, x0, y, opt, args.T, 0.01, 0.0)


def vgg5_layers():
    layers, c = [], 3
    for ch in (128, 256, 512, 512):
        layers.append(nn.Sequential(nn.Conv2d(c, ch, 3, padding=1)))
        layers.append(nn.Sequential(nn.GELU(), nn.MaxPool2d(2)))
        c = ch
    return layers


def vgg5_bp(args):
    model = nn.Sequential(nn.Conv2d(3, 128, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                          nn.Conv2d(128, 256, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                          nn.Conv2d(256, 512, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                          nn.Conv2d(512, 512, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(2048, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def vgg5_pc(args):
    # Vertices as pctrain builds them: value nodes at the conv/dense outputs;
    # each prediction is conv(maxpool(gelu(x_prev))).
    convs = [nn.Conv2d(3, 128, 3, padding=1), nn.Conv2d(128, 256, 3, padding=1),
             nn.Conv2d(256, 512, 3, padding=1), nn.Conv2d(512, 512, 3, padding=1)]
    head = nn.Linear(2048, 10)
    params = [p for m in convs + [head] for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    x0 = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    T, lr, mom = args.T, 0.0235, 0.3

    def f(l, prev):
        if l == 0:
            return convs[0](prev)
        h = F.max_pool2d(F.gelu(prev), 2)
        return convs[l](h) if l < 4 else head(h.flatten(1))

    def energy(xs):
        e = 0.5 * ((xs[0] - f(0, x0)) ** 2).sum()
        for l in range(1, 4):
            e = e + 0.5 * ((xs[l] - f(l, xs[l - 1])) ** 2).sum()
        return e + F.cross_entropy(f(4, xs[3]), y, reduction='sum')

    def step():
        with torch.no_grad():
            xs, h = [], x0
            for l in range(4):
                h = f(l, h)
                xs.append(h.clone())
        vs = [torch.zeros_like(v) for v in xs]
        for _ in range(T):
            for v in xs:
                v.requires_grad_(True)
            grads = torch.autograd.grad(energy(xs), xs)
            with torch.no_grad():
                for v, vel, g in zip(xs, vs, grads):
                    vel.mul_(mom).add_(g)
                    v.sub_(lr * vel)
            xs = [v.detach() for v in xs]
        opt.zero_grad(set_to_none=True)
        (energy(xs) / args.batch).backward()
        opt.step()
    return step


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['mlp', 'vgg5', 'skipmlp'], required=True)
    p.add_argument('--method', choices=['bp', 'pc', 'ipc', 'epc'], required=True)
    p.add_argument('--batch', type=int, default=None, help='128 (mlp, vgg5) or 64 (skipmlp)')
    p.add_argument('--depth', type=int, default=128, help='skipmlp hidden layers')
    p.add_argument('--T', type=int, default=20)
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--warmup', type=int, default=None, help='steps before timing (default max(3, steps/10))')
    args = p.parse_args()
    if args.batch is None:
        args.batch = 64 if args.model == 'skipmlp' else 128
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    cases = {('mlp', 'bp'): mlp_bp, ('mlp', 'pc'): mlp_pc, ('mlp', 'ipc'): mlp_ipc, ('mlp', 'epc'): mlp_epc,
             ('vgg5', 'bp'): vgg5_bp, ('vgg5', 'pc'): vgg5_pc, ('skipmlp', 'bp'): skipmlp_bp, ('skipmlp', 'epc'): skipmlp_epc}
    if (args.model, args.method) not in cases:
        p.error('no %s %s reference' % (args.model, args.method))
    step = cases[(args.model, args.method)](args)
    for _ in range(max(3, args.steps // 10) if args.warmup is None else args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({'model': args.model, 'method': args.method, 'T': args.T, 'batch': args.batch, 'samples_per_sec': args.batch * args.steps / dt,
                      'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
