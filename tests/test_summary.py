"""Module.summary: every number of a known network computed by hand in the test (parameters,
FLOPs = 2 x multiply-adds, activation bytes per sample), for a CNN, an MLP, an LSTM, shared
parameters, a module with parameters of its own and several inputs."""
import pytest

import lamina as lm
from lamina import nn


def _rows(summary):
    return [(r.name, r.type, r.output_shape, r.params, r.flops, r.activation_bytes) for r in summary.layers]


def test_cnn_summary_matches_hand_computed_numbers():
    conv = pytest.importorskip("lamina.nn.conv", reason="convolution layers are not built yet")
    pooling = pytest.importorskip("lamina.nn.pooling", reason="pooling layers are not built yet")
    model = nn.Sequential(conv.Conv2d(1, 4, 3, padding=1), nn.ReLU(), pooling.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64, 10))
    printed = []
    summary = model.summary((1, 8, 8), print_fn=printed.append)
    # conv: 4 x (1 x 3 x 3) weights + 4 biases = 40; (4, 8, 8) outputs of 9 multiply-adds each:
    # 2 x 9 x 256 = 4,608 FLOPs; 256 float32 outputs = 1,024 bytes. ReLU: same bytes. Pool: (4, 4, 4)
    # = 256 bytes. Flatten: a view, 0 bytes. Linear: 64 x 10 + 10 = 650; 2 x 64 x 10 = 1,280; 40 bytes.
    assert _rows(summary) == [
        ("0", "Conv2d", [[1, 4, 8, 8]], 40, 4608, 1024),
        ("1", "ReLU", [[1, 4, 8, 8]], 0, 0, 1024),
        ("2", "MaxPool2d", [[1, 4, 4, 4]], 0, 0, 256),
        ("3", "Flatten", [[1, 64]], 0, 0, 0),
        ("4", "Linear", [[1, 10]], 650, 1280, 40),
    ]
    assert (summary.total_params, summary.trainable_params, summary.flops) == (690, 690, 5888)
    assert (summary.activation_bytes, summary.input_bytes, summary.param_bytes) == (2344, 256, 2760)
    text = printed[0]
    assert "Total params: 690" in text and "FLOPs per sample: 5,888" in text and "0 (Conv2d)" in text


def test_mlp_summary_per_sample_numbers_do_not_depend_on_batch_size():
    model = nn.Sequential(nn.Linear(20, 30), nn.Tanh(), nn.Linear(30, 5))
    model[2].weight.requires_grad_(False)
    one = model.summary((20,), print_fn=None)
    four = model.summary((20,), batch_size=4, print_fn=None)
    # 20 x 30 + 30 = 630 and 30 x 5 + 5 = 155 params; FLOPs 2 x 600 + 2 x 150 = 1,500
    assert (one.total_params, one.trainable_params, one.non_trainable_params) == (785, 635, 150)
    assert one.flops == four.flops == 1500
    assert one.activation_bytes == four.activation_bytes == (30 + 30 + 5) * 4
    assert four.layers[0].output_shape == [[4, 30]]


def test_lstm_flops_count_every_weight_matrix_per_time_step():
    rnn = pytest.importorskip("lamina.nn.rnn", reason="recurrent layers are not built yet")

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 6)
            self.lstm = rnn.LSTM(6, 8, batch_first=True, bidirectional=True)
            self.head = nn.Linear(16, 3)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)

    summary = Tagger().summary((7,), dtype=lm.int64, print_fn=None)
    embed, lstm, head = summary.layers
    # LSTM per direction: W_ih (32, 6) + W_hh (32, 8) = 448 multiply-adds per step; 2 directions, 7 steps
    assert lstm.flops == 2 * 448 * 2 * 7
    assert lstm.params == 2 * (32 * 6 + 32 * 8 + 32 + 32)
    assert lstm.output_shape == [[1, 7, 16], [2, 1, 8], [2, 1, 8]]
    assert lstm.activation_bytes == (7 * 16 + 2 * 8 + 2 * 8) * 4
    assert (embed.params, embed.flops, embed.activation_bytes) == (300, 0, 7 * 6 * 4)
    assert head.flops == 2 * 16 * 3 * 7


def test_shared_parameters_own_parameters_and_several_inputs():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.encode = nn.Linear(5, 4)
            self.scale = nn.Parameter(lm.ones(4))

        def forward(self, a, b):
            return (self.encode(a) + self.encode(b)) * self.scale

    model = Pair()
    model.train()
    summary = model.summary([(5,), (5,)], print_fn=None)
    # the shared Linear runs twice: two rows, its 24 parameters counted once; Pair's own scale row last
    assert [(r.name, r.params, r.flops) for r in summary.layers] == [("encode", 24, 40), ("encode", 0, 40),
                                                                    ("Pair", 4, 0)]
    assert summary.total_params == 28 and summary.input_bytes == 2 * 5 * 4
    assert model.training and model.encode.training  # modes restored
