"""The PyTorch engine's worker process: `python3 -m codi_torch.worker`.

It holds the weights, the EMA and the AdamW state and runs the objectives; the Node driver
(training/engine-torch) reads the data, draws every random number with the project RNG,
writes checkpoints and exports packs, so both engines share one data path, one checkpoint
format and one exporter. One frame in, one frame out (protocol.py); errors come back as
{"ok": false, "error": ...} frames, never as a traceback on the user's terminal.
"""
from __future__ import annotations

import math
import os
import signal
import socket
import sys
import time
import traceback
from contextlib import nullcontext
from typing import Any, Callable, ContextManager, Dict, List, Optional

import torch

from .graph import GraphProgram, to_record_layout, to_torch_layout
from .objectives import CodiSettings, Denoiser, LossTerms, StepInputs, Tables, cm_loss, codi_loss, v_loss
from .optim import AdamW, AdamWConfig, update_ema
from .protocol import Header, TensorMap, read_frame, write_frame


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_supported() -> bool:
    """CUDA: compute capability >= 8. CPU: oneDNN with native bf16 instructions (AVX512-BF16 or AMX)."""
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())  # type: ignore[no-untyped-call]
    mkldnn = bool(torch.backends.mkldnn.is_available())  # type: ignore[no-untyped-call]
    return mkldnn and bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})


def _sub(tensors: TensorMap, prefix: str) -> Dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _nchw(x: torch.Tensor) -> torch.Tensor:
    """NHWC (the driver's batches) -> NCHW."""
    return x.permute(0, 3, 1, 2).contiguous()


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1).contiguous()


class Engine:
    def __init__(self, h: Header, tensors: TensorMap) -> None:
        device = h.get("device", "auto")
        use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        self.world = int(h.get("world", 1))
        self.rank = int(h.get("rank", 0))
        local_rank = int(h.get("localRank", self.rank))
        if use_cuda:
            self.device = torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        threads = int(h.get("threads", 0))
        if threads <= 0:
            # a rank from torchrun: its OMP_NUM_THREADS, else this machine's cores shared by its ranks
            env_threads = os.environ.get("OMP_NUM_THREADS", "")
            local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
            threads = int(env_threads) if env_threads.isdigit() else max(1, (os.cpu_count() or 1) // max(1, local_ranks))
        torch.set_num_threads(threads)
        if self.world > 1:
            import torch.distributed as dist

            dist.init_process_group("nccl" if use_cuda else "gloo", init_method=h["initMethod"], rank=self.rank, world_size=self.world)
        precision = h.get("precision", "fp32")
        if precision == "bf16" and not bf16_supported():
            raise ValueError("bf16 was asked for but this device has no bf16 kernels")
        self.bf16 = precision == "bf16"
        self.channels_last = use_cuda
        self.program = GraphProgram(h["graph"])
        self.backbone_program = GraphProgram(h["backboneGraph"]) if h.get("backboneGraph") else None
        self.objective: str = h["objective"]
        c = h.get("codi", {})
        self.codi = CodiSettings(c.get("odeModel", "adapted"), c.get("odeEps", "true"), c.get("consistencySpace", "eps"), float(h.get("xWeight", 1.0)))
        tb = h["tables"]
        self.tables = Tables.from_lists(tb["alpha"], tb["sigma"], tb["cSkip"], tb["cOut"])

        self.params = {k: self._load(v) for k, v in _sub(tensors, "model/").items()}
        missing = [n for n in self.program.param_names if n not in self.params]
        if missing:
            raise ValueError(f"missing parameter {missing[0]}")
        self.trainable: List[str] = list(h["trainable"])
        for n in self.trainable:
            self.params[n].requires_grad_(True)
        ema = _sub(tensors, "ema/")
        self.ema = {n: self._load(ema[n]) if n in ema else self.params[n].detach().clone() for n in self.trainable}
        self.frozen: Dict[str, Dict[str, torch.Tensor]] = {}
        for name in h.get("frozen", []):
            self.frozen[name] = {k: self._load(v) for k, v in _sub(tensors, f"frozen/{name}/").items()}
        o = h["optimizer"]
        clip = o.get("clipNorm")
        cfg = AdamWConfig(float(o["lr"]), float(o["beta1"]), float(o["beta2"]), float(o["eps"]), float(o["weightDecay"]), None if clip is None else float(clip))
        self.opt = AdamW({n: self.params[n] for n in self.trainable}, cfg, h.get("lrScale", {}))
        # the EMA in one buffer laid out as the optimiser's flat weights: one update per step, not one per tensor
        self._flat_ema: Optional[torch.Tensor] = None
        if self.opt.flat is not None:
            self._flat_ema = torch.cat([self.ema[n].reshape(-1) for n in self.trainable])
            self.ema = dict(zip(self.trainable, self.opt.views(self._flat_ema)))
        if "adamStep" in h:
            m = _sub(tensors, "adam_m/")
            v = _sub(tensors, "adam_v/")
            for n in self.trainable:
                if n not in m or n not in v:
                    raise ValueError(f'AdamW state lacks moments for "{n}"')
            self.opt.load_moments({n: self._load(m[n]) for n in self.trainable}, {n: self._load(v[n]) for n in self.trainable})
            self.opt.step = int(h["adamStep"])

    def _load(self, record_value: torch.Tensor) -> torch.Tensor:
        t = to_torch_layout(record_value).to(self.device)
        if self.channels_last and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t

    def _autocast(self) -> ContextManager[Any]:
        if self.bf16:
            ctx: ContextManager[Any] = torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
            return ctx
        return nullcontext()

    def _map(self, x: torch.Tensor) -> torch.Tensor:
        y = _nchw(x).to(self.device)
        return y.contiguous(memory_format=torch.channels_last) if self.channels_last else y

    def _model(self, params: Dict[str, torch.Tensor], program: GraphProgram, cond: Optional[torch.Tensor], text: Optional[torch.Tensor]) -> Denoiser:
        def run(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            inputs = {"z": z, "t": t}
            if cond is not None:
                inputs["cond"] = cond
            if text is not None:
                inputs["text"] = text
            with self._autocast():
                return program(params, inputs)

        return run

    def _frozen_model(self, name: str) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        for key, rec in self.frozen.items():
            if key.startswith(f"{name}/"):
                part = key[len(name) + 1:]
                out.update({f"{part}/{k}": v for k, v in rec.items()})
        return out

    def _losses(self, h: Header, tensors: TensorMap) -> LossTerms:
        x = self._map(tensors["x"])
        cond = self._map(tensors["cond"]) if "cond" in tensors else None
        text = tensors["text"].to(self.device) if "text" in tensors else None
        st = StepInputs(x, self._map(tensors["eps"]), [int(t) for t in h["ts"]], [int(s) for s in h.get("ss", h["ts"])])
        online = self._model(self.params, self.program, cond, text)
        if self.objective == "v-loss":
            return v_loss(self.tables, online, st)
        target = self._model({**self.params, **self.ema}, self.program, cond, text)
        if self.objective == "codi":
            pretrained: Optional[Denoiser] = None
            if self.codi.ode_model == "pretrained":
                if self.backbone_program is None:
                    raise ValueError("CoDi odeModel 'pretrained' needs the backbone graph")
                pre = self._frozen_model("pretrained") or self.params
                pretrained = self._model(pre, self.backbone_program, None, None)
            return codi_loss(self.tables, self.codi, online, target, pretrained, st)
        if self.objective == "cm":
            teacher = self._model(self._frozen_model("teacher"), self.program, cond, text)
            return cm_loss(self.tables, online, target, teacher, st)
        raise ValueError(f"unknown objective {self.objective}")

    def _grads(self, h: Header, tensors: TensorMap) -> tuple[Dict[str, float], Dict[str, torch.Tensor]]:
        for n in self.trainable:
            self.params[n].grad = None
        terms = self._losses(h, tensors)
        terms["total"].backward()  # type: ignore[no-untyped-call]
        grads = {}
        for n in self.trainable:
            g = self.params[n].grad
            # A parameter the loss does not reach gets a zero gradient, as in the TS trainer.
            grads[n] = g.detach() if g is not None else torch.zeros_like(self.params[n])
            self.params[n].grad = None
        values = torch.stack([terms[k].detach().float() for k in terms])
        if self.world > 1:
            import torch.distributed as dist

            # Every rank's loss is the mean over its equal shard, so the mean over ranks is
            # the mean over the global batch: N processes at batch B/N follow one at batch B.
            # one bucket (loss terms + every gradient) per step instead of one collective per tensor
            names = list(grads)
            flat = torch.cat([values.to(self.device)] + [grads[n].reshape(-1).float() for n in names])
            dist.all_reduce(flat)  # type: ignore[no-untyped-call]
            flat /= self.world
            values = flat[: values.numel()]
            offset = values.numel()
            for n in names:
                size = grads[n].numel()
                grads[n] = flat[offset:offset + size].view_as(grads[n])
                offset += size
        host = values.cpu().tolist()
        return {k: float(v) for k, v in zip(terms, host)}, grads

    def step(self, h: Header, tensors: TensorMap) -> Header:
        terms, grads = self._grads(h, tensors)
        total = terms.pop("total")
        out: Header = {"total": total, "terms": terms, "gradNorm": float("nan"), "applied": False}
        if not math.isfinite(total) or not all(math.isfinite(v) for v in terms.values()):
            return out
        report = self.opt.apply(grads, float(h["lr"]))
        out["gradNorm"] = report["gradNorm"]
        if report["applied"]:
            if self._flat_ema is not None and self.opt.flat is not None:
                update_ema({"all": self._flat_ema}, {"all": self.opt.flat}, float(h["emaDecay"]))
            else:
                update_ema(self.ema, {n: self.params[n] for n in self.trainable}, float(h["emaDecay"]))
            out["applied"] = True
        return out

    def grads(self, h: Header, tensors: TensorMap) -> tuple[Header, TensorMap]:
        terms, grads = self._grads(h, tensors)
        return {"terms": terms}, {k: to_record_layout(g.float().cpu()) for k, g in grads.items()}

    def forward(self, h: Header, tensors: TensorMap) -> TensorMap:
        params = {**self.params, **self.ema} if h.get("weights") == "ema" else self.params
        cond = self._map(tensors["cond"]) if "cond" in tensors else None
        text = tensors["text"].to(self.device) if "text" in tensors else None
        t = torch.tensor([float(v) for v in h["t"]], dtype=torch.float32, device=self.device)
        with torch.no_grad():
            v = self._model(params, self.program, cond, text)(self._map(tensors["z"]), t)
        return {"v": _nhwc(v.float().cpu())}

    def state(self) -> tuple[Header, TensorMap]:
        out: TensorMap = {}

        def put(prefix: str, rec: Dict[str, torch.Tensor]) -> None:
            for k, v in rec.items():
                out[f"{prefix}{k}"] = to_record_layout(v.detach().float().cpu())

        put("model/", self.params)
        put("ema/", self.ema)
        put("adam_m/", self.opt.m)
        put("adam_v/", self.opt.v)
        for name, rec in self.frozen.items():
            put(f"frozen/{name}/", rec)
        return {"adamStep": self.opt.step}, out


def evaluate(h: Header, tensors: TensorMap) -> TensorMap:
    """Stateless forward of a graph spec with the weights sent along (the parity tests' entry)."""
    program = GraphProgram(h["graph"])
    params = {k: to_torch_layout(v) for k, v in _sub(tensors, "param/").items()}
    inputs: Dict[str, torch.Tensor] = {"t": torch.tensor([float(v) for v in h["t"]], dtype=torch.float32)}
    for name in ("z", "cond"):
        if name in tensors:
            inputs[name] = _nchw(tensors[name])
    if "text" in tensors:
        inputs["text"] = tensors["text"]
    with torch.no_grad():
        return {"v": _nhwc(program(params, inputs))}


def hello() -> Header:
    return {
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "bf16": bf16_supported(),
        "cores": os.cpu_count() or 1,
    }


def serve(stdin: Any, stdout: Any) -> None:
    engine: Optional[Engine] = None
    handlers: Dict[str, Callable[[Header, TensorMap], tuple[Header, TensorMap]]] = {}

    def need() -> Engine:
        if engine is None:
            raise ValueError("the worker has not been set up")
        return engine

    handlers["hello"] = lambda h, t: (hello(), {})
    handlers["eval"] = lambda h, t: ({}, evaluate(h, t))
    handlers["step"] = lambda h, t: (need().step(h, t), {})
    handlers["grads"] = lambda h, t: need().grads(h, t)
    handlers["forward"] = lambda h, t: ({}, need().forward(h, t))
    handlers["state"] = lambda h, t: need().state()
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return
        header, tensors = frame
        cmd = header.get("cmd")
        if cmd == "exit":
            write_frame(stdout, {"ok": True})
            return
        try:
            if cmd == "setup":
                engine = Engine(header, tensors)
                reply: Header = {"device": str(engine.device), "threads": torch.get_num_threads(), "bf16": engine.bf16}
                out: TensorMap = {}
            else:
                fn = handlers.get(str(cmd))
                if fn is None:
                    raise ValueError(f"unknown command {cmd}")
                reply, out = fn(header, tensors)
            write_frame(stdout, {"ok": True, **reply}, out)
        except Exception as err:  # noqa: BLE001 - every failure goes back to the driver as a message
            if os.environ.get("CODI_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            write_frame(stdout, {"ok": False, "error": f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)})


def connect(address: str, timeout_s: float = 600.0) -> socket.socket:
    """A connection to the driver at HOST:PORT, retried while it is not listening yet."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"--connect needs HOST:PORT, got {address!r}")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return socket.create_connection((host, int(port)))
        except OSError as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot reach the codi train driver at {address}: {err}")
            time.sleep(1.0)


def main() -> None:
    # Ctrl-C reaches the whole process group: the driver stops between steps and checkpoints,
    # which needs this worker alive; it exits when the driver closes its end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = sys.argv[1:]
    try:
        if args[:1] == ["--connect"] and len(args) == 2:
            # A rank started by torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT in the
            # environment), here or on another machine: introduce itself, then serve the driver.
            conn = connect(args[1])
            rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
            env = os.environ
            write_frame(wfile, {"rank": int(env.get("RANK", "0")), "world": int(env.get("WORLD_SIZE", "1")), "localRank": int(env.get("LOCAL_RANK", "0"))})
            serve(rfile, wfile)
        elif args:
            raise SystemExit("usage: python -m codi_torch.worker [--connect HOST:PORT]")
        else:
            serve(sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
