"""PyTorch peer for `npm run bench:serve`: the bundle's own model (embedding -> [bidirectional] LSTM ->
dense softmax, the `lstm` architecture) rebuilt in PyTorch from its weights.bin/model.json with numpy,
scoring the same encoded reviews. PyTorch's exact best for variable-length rows: one packed batch
(pack_padded_sequence over the real lengths), which equals the masked computation.

Protocol (JSON lines): argv[1] = the bundle version folder. Then on stdin:
  {"op": "load", "name": k, "sequences": [[ids...], ...]}   -> {"ok": true}
  {"op": "time", "name": k, "threads": n}                  -> {"ms": model time of one request}
  {"op": "probabilities", "name": k}                       -> {"probabilities": [[...], ...]}
Timing covers tensor construction from the id lists, packing, the forward pass and softmax: not the
tokenizer, not the JSON round trip (both of which the service's own figure includes)."""
import json
import os
import platform
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch_blas import loaded_blas  # the script's folder is on sys.path

bundle = sys.argv[1]
with open(os.path.join(bundle, "model.json")) as f:
    model_json = json.load(f)
raw = np.fromfile(os.path.join(bundle, "weights.bin"), dtype="<f4")
weights, offset = {}, 0
for group in model_json["weightsManifest"]:
    for spec in group["weights"]:
        if spec["dtype"] != "float32":
            raise SystemExit(f"unsupported dtype {spec['dtype']}")
        size = int(np.prod(spec["shape"])) if spec["shape"] else 1
        weights[spec["name"]] = raw[offset : offset + size].reshape(spec["shape"])
        offset += size

topology = json.dumps(model_json["modelTopology"])
for needed in ('"recurrent_activation": "sigmoid"', '"activation": "tanh"'):
    if needed not in topology:
        raise SystemExit(f"the peer reproduces sigmoid/tanh LSTMs only (missing {needed})")
bidirectional = "bilstm/forward_lstm/kernel" in weights
prefixes = ["bilstm/forward_lstm", "bilstm/backward_lstm"] if bidirectional else ["lstm"]
if not bidirectional and "lstm/kernel" not in weights:
    raise SystemExit("the peer reproduces the `lstm` architecture only (embedding -> LSTM -> dense)")
embedding = weights["embedding/embeddings"]
units = weights[f"{prefixes[0]}/recurrent_kernel"].shape[0]


class Peer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(*embedding.shape)
        self.lstm = nn.LSTM(embedding.shape[1], units, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(*weights["output/kernel"].shape)

    def forward(self, ids, lengths):
        # Rows with no tokens keep the zero state (what tfjs and ONNX give): they never enter the LSTM.
        features = torch.zeros(ids.shape[0], units * (2 if bidirectional else 1))
        real = lengths > 0
        if bool(real.any()):
            packed = pack_padded_sequence(
                self.embedding(ids[real]), lengths[real], batch_first=True, enforce_sorted=False
            )
            _, (h, _) = self.lstm(packed)
            features[real] = torch.cat([h[-2], h[-1]], dim=1) if bidirectional else h[-1]
        return torch.softmax(self.out(features), dim=1)


model = Peer().eval()
with torch.no_grad():
    model.embedding.weight.copy_(torch.from_numpy(embedding))
    # Keras gate order (i, f, c, o) is PyTorch's (i, f, g, o); Keras has one bias per gate.
    for suffix, prefix in zip(["", "_reverse"], prefixes):
        getattr(model.lstm, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(weights[f"{prefix}/kernel"].T.copy()))
        getattr(model.lstm, f"weight_hh_l0{suffix}").copy_(
            torch.from_numpy(weights[f"{prefix}/recurrent_kernel"].T.copy())
        )
        getattr(model.lstm, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(weights[f"{prefix}/bias"]))
        getattr(model.lstm, f"bias_hh_l0{suffix}").zero_()
    model.out.weight.copy_(torch.from_numpy(weights["output/kernel"].T.copy()))
    model.out.bias.copy_(torch.from_numpy(weights["output/bias"]))

requests = {}


def run(sequences):
    # Ids arrive post-padded; pack_padded_sequence reads only each row's real length.
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    width = max(1, int(lengths.max()))
    ids = torch.zeros(len(sequences), width, dtype=torch.int64)
    for row, s in enumerate(sequences):
        if s:
            ids[row, : len(s)] = torch.tensor(s, dtype=torch.int64)
    with torch.inference_mode():
        return model(ids, lengths)


print(
    json.dumps(
        {
            "ready": True,
            "blas": loaded_blas(),
            "framework": f"pytorch {torch.__version__}",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "bidirectional": bidirectional,
            "units": units,
        }
    ),
    flush=True,
)
for line in sys.stdin:
    message = json.loads(line)
    op = message["op"]
    if op == "load":
        requests[message["name"]] = message["sequences"]
        reply = {"ok": True}
    elif op == "time":
        torch.set_num_threads(message["threads"])
        started = time.perf_counter()
        run(requests[message["name"]])
        reply = {"ms": (time.perf_counter() - started) * 1000}
    elif op == "probabilities":
        reply = {"probabilities": run(requests[message["name"]]).tolist()}
    else:
        reply = {"error": f"unknown op {op}"}
    print(json.dumps(reply), flush=True)
