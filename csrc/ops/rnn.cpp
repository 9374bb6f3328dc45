// Recurrent layers: rnn_layer runs one layer of an RNN (tanh or relu), LSTM (with optional
// projection) or GRU in one direction over a whole sequence and records one node. A padded input
// (T, N, I) is the packed layout with batch_sizes = [N] * T, so one kernel pair serves both.
// Multi-layer, bidirectional and dropout composition lives in Python (lamina/nn/rnn.py).
#include <string>

#include "ops/cpu/rnn_kernels.h"
#include "ops/dispatch.h"

namespace lamina {

namespace {

const char* mode_name(RnnMode mode) {
  switch (mode) {
    case RnnMode::RnnTanh: return "rnn_tanh";
    case RnnMode::RnnRelu: return "rnn_relu";
    case RnnMode::Lstm: return "lstm";
    case RnnMode::Gru: return "gru";
  }
  return "rnn";
}

void check_shape(const char* op, const Tensor& t, const Shape& expected, const char* arg) {
  LAMINA_CHECK(t.shape() == expected, ValueError, "[", op, "] ", arg, " must have shape ", shape_str(expected),
               ", got ", shape_str(t.shape()));
}

// Inputs: input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr (edges in this order); outputs: output,
// h_n, c_n. Saves x, the weights, and the forward's gates, h_prev, c_prev and m.
struct RnnLayerBackward : Node {
  cpu::RnnSizes sizes;
  explicit RnnLayerBackward(cpu::RnnSizes s) : sizes(std::move(s)) { num_outputs = 3; }
  const char* name() const override {
    switch (sizes.mode) {
      case RnnMode::Lstm: return "LstmLayerBackward0";
      case RnnMode::Gru: return "GruLayerBackward0";
      default: return "RnnLayerBackward0";
    }
  }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor x = saved(0), w_ih = saved(1), w_hh = saved(2), b_ih = saved(3), b_hh = saved(4), w_hr = saved(5);
    Tensor gates = saved(6), h_prev = saved(7), c_prev = saved(8), m = saved(9);
    const cpu::RnnSizes& s = sizes;
    const bool lstm = s.mode == RnnMode::Lstm;
    // dout: read in place when its rows are contiguous (the transposed view of a batch-first
    // output's gradient is), else copied once.
    Tensor dout = grads[0];
    if (dout.defined() && dout.strides().back() != 1) dout = contiguous(dout);
    Tensor dh = grads[1].defined() ? clone(grads[1]) : zeros({s.N, s.P}, x.dtype());
    Tensor dc = !lstm ? Tensor() : grads[2].defined() ? clone(grads[2]) : zeros({s.N, s.H}, x.dtype());
    std::vector<Tensor> out(8);
    if (needs_input_grad(0)) out[0] = Tensor::empty(x.shape(), x.dtype());
    for (size_t i : {3, 4, 5, 6, 7}) {
      const Tensor& param = i == 3 ? w_ih : i == 4 ? w_hh : i == 5 ? b_ih : i == 6 ? b_hh : w_hr;
      if (needs_input_grad(i)) out[i] = zeros(param.shape(), x.dtype());
    }
    dispatch_float(x.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
      cpu::RnnWeights<T> w{ptr(w_ih), ptr(w_hh), ptr(b_ih), ptr(b_hh), ptr(w_hr)};
      cpu::StepRows<T> dout_rows;
      if (dout.defined()) {  // (total, P) packed: step t starts at row sum_{t' < t} batch_sizes[t']
        const bool padded = dout.dim() == 3;
        dout_rows.batch_stride = dout.strides()[padded ? 1 : 0];
        int64_t row = 0;
        for (int64_t t = 0; t < s.steps(); ++t) {
          dout_rows.steps.push_back(dout.data<T>() + (padded ? t * dout.strides()[0] : row * dout_rows.batch_stride));
          row += s.batch_sizes[size_t(t)];
        }
      }
      cpu::rnn_layer_backward<T>(ptr(out[0]), dh.data<T>(), ptr(dc), ptr(out[3]), ptr(out[4]), ptr(out[5]),
                                 ptr(out[6]), ptr(out[7]), dout_rows, x.data<T>(), gates.data<T>(), h_prev.data<T>(),
                                 ptr(c_prev), ptr(m), w, s);
    });
    if (needs_input_grad(1)) out[1] = dh;
    if (needs_input_grad(2)) out[2] = dc;
    return out;
  }
};

}  // namespace

std::vector<Tensor> rnn_layer(RnnMode mode, const Tensor& input, const Tensor& hx, const Tensor& cx,
                              const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                              const Tensor& w_hr, const std::vector<int64_t>& batch_sizes, bool reverse) {
  const char* op = mode_name(mode);
  const bool lstm = mode == RnnMode::Lstm, packed = !batch_sizes.empty();
  check_defined(op, input, "input");
  check_defined(op, w_ih, "weight_ih");
  check_defined(op, w_hh, "weight_hh");
  check_floating(op, input, "input");
  require_cpu(op, input);
  for (const Tensor* t : {&hx, &cx, &w_ih, &w_hh, &b_ih, &b_hh, &w_hr}) {
    if (!t->defined()) continue;
    check_same_device(op, input, *t);
    LAMINA_CHECK(t->dtype() == input.dtype(), TypeError, "[", op, "] input dtype (", dtype_name(input.dtype()),
                 ") does not match the dtype of the weights and states (", dtype_name(t->dtype()), ")");
  }
  LAMINA_CHECK(lstm || !cx.defined(), ValueError, "[", op, "] takes no cell state cx (LSTM only)");
  LAMINA_CHECK(lstm || !w_hr.defined(), ValueError, "[", op, "] takes no weight_hr (LSTM projection only)");
  LAMINA_CHECK(b_ih.defined() == b_hh.defined(), ValueError, "[", op,
               "] bias_ih and bias_hh must be given together or both be None");

  // Sequence layout: (T, N, I) padded, or (sum(batch_sizes), I) packed.
  check_dim(op, input, packed ? 2 : 3, packed ? "packed input (with batch_sizes)" : "input");
  cpu::RnnSizes s;
  s.mode = mode;
  s.reverse = reverse;
  s.zero_h0 = !hx.defined();
  s.I = input.shape().back();
  if (packed) {
    int64_t sum = 0;
    for (size_t t = 0; t < batch_sizes.size(); ++t) {
      LAMINA_CHECK(batch_sizes[t] > 0 && (t == 0 || batch_sizes[t] <= batch_sizes[t - 1]), ValueError, "[", op,
                   "] batch_sizes must be positive and nonincreasing, got ", batch_sizes[t], " at step ", t);
      sum += batch_sizes[t];
    }
    LAMINA_CHECK(sum == input.shape()[0], ValueError, "[", op, "] batch_sizes sum to ", sum,
                 " but the packed input has ", input.shape()[0], " rows");
    s.batch_sizes = batch_sizes;
  } else {
    LAMINA_CHECK(input.shape()[0] > 0 && input.shape()[1] > 0, ValueError, "[", op,
                 "] input (T, N, I) must have at least one step and one sequence, got ", shape_str(input.shape()));
    s.batch_sizes.assign(size_t(input.shape()[0]), input.shape()[1]);
  }
  s.N = s.batch_sizes[0];

  // Weights: G*H rows; P from the projection.
  const int64_t G = s.gates();
  check_dim(op, w_ih, 2, "weight_ih");
  LAMINA_CHECK(w_ih.shape()[0] > 0 && w_ih.shape()[0] % G == 0 && w_ih.shape()[1] == s.I, ValueError, "[", op,
               "] weight_ih must have shape (", G, " * hidden_size, input_size) with input_size = input.size(-1) = ",
               s.I, ", got ", shape_str(w_ih.shape()));
  s.H = w_ih.shape()[0] / G;
  s.P = s.H;
  if (w_hr.defined()) {
    check_dim(op, w_hr, 2, "weight_hr");
    LAMINA_CHECK(w_hr.shape()[1] == s.H && w_hr.shape()[0] > 0 && w_hr.shape()[0] < s.H, ValueError, "[", op,
                 "] weight_hr must have shape (proj_size, hidden_size) with 0 < proj_size < hidden_size = ", s.H,
                 ", got ", shape_str(w_hr.shape()));
    s.P = w_hr.shape()[0];
  }
  LAMINA_CHECK(s.I > 0, ValueError, "[", op, "] input_size must be greater than zero");
  check_shape(op, w_hh, {G * s.H, s.P}, "weight_hh");
  if (b_ih.defined()) {
    check_shape(op, b_ih, {G * s.H}, "bias_ih");
    check_shape(op, b_hh, {G * s.H}, "bias_hh");
  }
  if (hx.defined()) check_shape(op, hx, {s.N, s.P}, "hx");
  if (cx.defined()) check_shape(op, cx, {s.N, s.H}, "cx");

  const int64_t total = s.total();
  const Dtype dtype = input.dtype();
  Tensor x = contiguous(detach(input));
  Tensor wi = contiguous(detach(w_ih)), wh = contiguous(detach(w_hh));
  Tensor bi = b_ih.defined() ? contiguous(detach(b_ih)) : Tensor(), bh = b_hh.defined() ? contiguous(detach(b_hh)) : Tensor();
  Tensor wr = w_hr.defined() ? contiguous(detach(w_hr)) : Tensor();
  Shape out_shape = packed ? Shape{total, s.P} : Shape{input.shape()[0], s.N, s.P};
  Tensor output = Tensor::empty(out_shape, dtype);
  Tensor h = hx.defined() ? clone(detach(hx)) : zeros({s.N, s.P}, dtype);
  Tensor c = !lstm ? Tensor() : cx.defined() ? clone(detach(cx)) : zeros({s.N, s.H}, dtype);
  Tensor gates = Tensor::empty({total, s.saved_gates() * s.H}, dtype);
  Tensor h_prev = Tensor::empty({total, s.P}, dtype);
  Tensor c_prev = lstm ? Tensor::empty({total, s.H}, dtype) : Tensor();
  Tensor m = s.projected() ? Tensor::empty({total, s.H}, dtype) : Tensor();
  dispatch_float(dtype, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
    cpu::RnnWeights<T> w{ptr(wi), ptr(wh), ptr(bi), ptr(bh), ptr(wr)};
    cpu::rnn_layer_forward<T>(output.data<T>(), h.data<T>(), ptr(c), gates.data<T>(), h_prev.data<T>(), ptr(c_prev),
                              ptr(m), x.data<T>(), w, s);
  });

  if (any_requires_grad({&input, &hx, &cx, &w_ih, &w_hh, &b_ih, &b_hh, &w_hr})) {
    auto node = make_node<RnnLayerBackward>({&input, &hx, &cx, &w_ih, &w_hh, &b_ih, &b_hh, &w_hr}, s);
    node->save({x, wi, wh, bi, bh, wr, gates, h_prev, c_prev, m});
    set_history(output, node, 0);
    set_history(h, node, 1);
    if (lstm) set_history(c, node, 2);
  }
  return {output, h, c};
}

}  // namespace lamina
