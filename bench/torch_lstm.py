"""PyTorch reference for `npm run bench:train`: the same model (embedding -> LSTM -> softmax) trained
on the same word ids, every batch padded to maxLen as in the original design. Reads its settings as
JSON on argv[1]; the ids come from a little-endian int32 file written by bench/train.ts. Prints JSON."""
import json
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(cfg["seed"])

ids = np.fromfile(cfg["idsFile"], dtype="<i4").reshape(-1, cfg["maxLen"])
labels = np.fromfile(cfg["labelsFile"], dtype="<i4")
x_all = torch.from_numpy(ids.astype(np.int64))
y_all = torch.from_numpy(labels.astype(np.int64))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(cfg["numWords"], cfg["embeddingDim"], padding_idx=0)
        self.lstm = nn.LSTM(cfg["embeddingDim"], cfg["lstmUnits"], batch_first=True)
        self.out = nn.Linear(cfg["lstmUnits"], cfg["numClasses"])

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.out(h[-1])


model = Model()
optimizer = torch.optim.Adam(model.parameters(), lr=cfg["learningRate"])
loss_fn = nn.CrossEntropyLoss()
batch = cfg["batchSize"]
order = torch.randperm(len(x_all))
times, losses = [], []
for step in range(cfg["warmup"] + cfg["steps"]):
    idx = order[(step * batch) % len(order):][:batch]
    started = time.perf_counter()
    optimizer.zero_grad()
    loss = loss_fn(model(x_all[idx]), y_all[idx])
    loss.backward()
    optimizer.step()
    elapsed = time.perf_counter() - started
    if step >= cfg["warmup"]:
        times.append(elapsed)
        losses.append(loss.item())

def loaded_blas():
    """The BLAS actually mapped into this process (Debian's torch links the generic libblas.so.3 name)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(p for p in paths if p.startswith("/"))) or "none mapped"


median = statistics.median(times)
json.dump(
    {
        "framework": f"pytorch {torch.__version__}",
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "blas": loaded_blas(),
        "batchSize": batch,
        "sequenceLength": cfg["maxLen"],
        "steps": cfg["steps"],
        "medianBatchSeconds": median,
        "samplesPerSec": batch / median,
        "meanLoss": statistics.fmean(losses),
    },
    sys.stdout,
)
