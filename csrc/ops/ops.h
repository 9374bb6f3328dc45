// The public C++ API of Lamina: every op, one line each. Differentiable ops record autograd
// history when grad mode is on and an input requires grad. Shapes follow PyTorch exactly.
// Errors: ValueError (shapes, values), TypeError (dtypes), IndexError (dims, indices),
// RuntimeError (state), each naming the op and the argument.
#pragma once
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace lamina {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Pow, Maximum, Minimum };
enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
enum class UnaryOp : uint8_t { Neg, Exp, Log, Sqrt, Abs, Relu, Sigmoid, Tanh };

// A Python number: integers keep int64 tensors integral, floats take the tensor's float dtype.
struct Scalar {
  double value = 0;
  bool is_integral = false;
};

// --- factories (factory.cpp) ---
Tensor full(const Shape& shape, Scalar value, std::optional<Dtype> dtype = {}, Device device = {});
Tensor zeros(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = {});
Tensor ones(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = {});
Tensor scalar_tensor(Scalar value, Dtype dtype, Device device = {});       // 0-d
Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<Dtype> dtype = {});  // [start, end)
Tensor linspace(double start, double end, int64_t steps, Dtype dtype = Dtype::Float32);
Tensor eye(int64_t n, int64_t m, Dtype dtype = Dtype::Float32);
Tensor rand(const Shape& shape, Dtype dtype = Dtype::Float32);             // U[0, 1)
Tensor randn(const Shape& shape, Dtype dtype = Dtype::Float32);            // N(0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, Dtype dtype = Dtype::Int64);  // [low, high)
void manual_seed(uint64_t seed);

// --- copies and conversions (copy.cpp) ---
Tensor contiguous(const Tensor& x);                     // x itself when already contiguous
Tensor clone(const Tensor& x);                          // a contiguous copy, differentiable
Tensor to(const Tensor& x, Dtype dtype);                // x itself when already dtype; differentiable
Tensor to(const Tensor& x, Device device);              // x itself when already there
Tensor detach(const Tensor& x);                         // shares storage, no history
void copy_(const Tensor& dst, const Tensor& src);       // src broadcast to dst, converted
void fill_(const Tensor& dst, Scalar value);
void zero_(const Tensor& dst);
// self takes src's data (storage, shape, strides, dtype) and keeps its autograd identity: `p.data = t`.
void set_data(const Tensor& self, const Tensor& src);

// --- views (view.cpp): share storage with x ---
Tensor view(const Tensor& x, Shape shape);             // one -1 allowed; x must be viewable
Tensor reshape(const Tensor& x, Shape shape);          // a view when possible, else a copy
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = {});
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor t(const Tensor& x);                              // transpose of a <= 2-d tensor
Tensor expand(const Tensor& x, const Shape& shape);    // -1 keeps a size
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);

// One item of x[...]: an integer, a slice, None (new axis), Ellipsis, or an index tensor
// (int64: index_select along that dim; bool: a mask over the leading dims).
struct IndexItem {
  enum class Kind : uint8_t { Integer, Slice, NewAxis, Ellipsis, Tensor };
  Kind kind = Kind::Slice;  // default: `:`
  int64_t integer = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  lamina::Tensor tensor;

  static IndexItem at(int64_t i) {
    IndexItem it;
    it.kind = Kind::Integer;
    it.integer = i;
    return it;
  }
};
Tensor index(const Tensor& x, const std::vector<IndexItem>& items);      // x[items]
void index_put_(const Tensor& x, const std::vector<IndexItem>& items, const Tensor& value);  // x[items] = value

// --- elementwise (elementwise.cpp), NumPy broadcasting and PyTorch type promotion ---
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, Scalar b);
Tensor binary(BinaryOp op, Scalar a, const Tensor& b);
void binary_(BinaryOp op, const Tensor& self, const Tensor& other);   // self = self op other
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);        // bool result
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor unary(UnaryOp op, const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
void clamp_(const Tensor& x, std::optional<double> min, std::optional<double> max);
// Sums broadcast dims away so that the result has `shape` (the reverse of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// --- reductions (reduce.cpp); empty dims = all dims ---
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1, bool keepdim = false);
Tensor max(const Tensor& x);                            // over all elements
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);  // values, indices
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = {}, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = {}, bool keepdim = false);

// --- matrix products (matmul.cpp), OpenBLAS GEMM ---
Tensor mm(const Tensor& a, const Tensor& b);             // (M, K) @ (K, N)
Tensor bmm(const Tensor& a, const Tensor& b);            // (B, M, K) @ (B, K, N)
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta = 1, double alpha = 1);
Tensor matmul(const Tensor& a, const Tensor& b);         // numpy.matmul rules

// --- activations and softmax (activation.cpp) ---
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// --- joining, splitting, indexing (index.cpp) ---
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);   // index: 1-d int64
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);         // index: int64, x.dim()
Tensor masked_select(const Tensor& x, const Tensor& mask);                // 1-d result
Tensor nonzero(const Tensor& x);                                          // (count, ndim) int64

// --- autograd entry points (autograd/engine.cpp) ---
void backward(const Tensor& root, const Tensor& gradient, bool retain_graph);
void retain_grad(const Tensor& x);

// --- layers (linear.cpp, norm.cpp, dropout.cpp, embedding.cpp); undefined tensor = None ---
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});  // (*, IC) -> (*, OC)
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);          // inverted; mask seeded
// (N, C, *): batch statistics when training (running stats updated in place), else running stats.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps);
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);                     // over the trailing dims
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);                                              // (N, C, *)
Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx = {});  // int64 (*) -> (*, D)
// Parametrised activations (activation.cpp); one node each.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
Tensor gelu(const Tensor& x, const std::string& approximate = "none");       // 'none' (erf) or 'tanh'
Tensor silu(const Tensor& x);
Tensor mish(const Tensor& x);
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor prelu(const Tensor& x, const Tensor& weight);                         // weight (1,) or (C,), C = x.shape[1]

// --- losses (loss.cpp): one node each; an undefined weight means none; BatchMean: kl_div only ---
enum class Reduction : uint8_t { None, Mean, Sum, BatchMean };
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                const Tensor& weight = {});                                        // mean over sum(weight)
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
               const Tensor& weight = {});                                         // mean over sum(weight)
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0, const Tensor& weight = {});
// input (N, C, d1, ...) or (C) logits; target int64 (N, d1, ...) class indices or float probabilities of the
// input's shape; log-softmax fused in; 'mean' divides by the sum of the weights of non-ignored targets.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                     Reduction reduction = Reduction::Mean, double label_smoothing = 0.0);
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, int64_t ignore_index = -100,
                Reduction reduction = Reduction::Mean);                            // input: log-probabilities
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::Mean);               // input in [0, 1]
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        Reduction reduction = Reduction::Mean, const Tensor& pos_weight = {});
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
              bool log_target = false);                                            // input: log-probabilities

// --- optimizer steps (optim.cpp): PyTorch's update of every tensor of a parameter group in one call ---
// In place and without autograd; params, grads and state line up by index; each step tensor is a 0-d
// counter incremented here. Bumps the versions of what they write.
// momentum_buffers: an undefined entry starts as the (decayed) gradient; returns the buffers.
std::vector<Tensor> sgd_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                              const std::vector<Tensor>& momentum_buffers, double lr, double momentum, double dampening,
                              double weight_decay, bool nesterov, bool maximize);
// max_exp_avg_sqs: used when amsgrad; decoupled_weight_decay: AdamW.
void adam_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& exp_avgs,
                const std::vector<Tensor>& exp_avg_sqs, const std::vector<Tensor>& max_exp_avg_sqs,
                const std::vector<Tensor>& steps, double lr, double beta1, double beta2, double eps, double weight_decay,
                bool amsgrad, bool maximize, bool decoupled_weight_decay);
// grad_avgs: used when centered; momentum_buffers: used when momentum > 0.
void rmsprop_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& grad_avgs,
                   const std::vector<Tensor>& momentum_buffers, const std::vector<Tensor>& steps, double lr,
                   double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize);
void adagrad_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, const std::vector<Tensor>& sums,
                   const std::vector<Tensor>& steps, double lr, double lr_decay, double weight_decay, double eps,
                   bool maximize);
void adadelta_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& acc_deltas,
                    const std::vector<Tensor>& steps, double lr, double rho, double eps, double weight_decay,
                    bool maximize);

// --- recurrent layers (rnn.cpp) ---
// One layer in one direction over a whole sequence, one node. G = 1 (RNN), 4 (LSTM: i, f, g, o),
// 3 (GRU: r, z, n); P = w_hr.shape[0] with a projection (LSTM), else H. input (T, N, I), or packed
// (sum(batch_sizes), I) with batch_sizes nonincreasing (a PackedSequence's); hx (N, P), cx (N, H)
// (LSTM; undefined = zeros); w_ih (G*H, I), w_hh (G*H, P), b_ih and b_hh (G*H,) or both undefined;
// w_hr (P, H) or undefined. reverse runs from the last step to the first. Returns output (T, N, P)
// or (sum(batch_sizes), P), h_n (N, P) and c_n (N, H) (LSTM; else undefined), in this order.
enum class RnnMode : uint8_t { RnnTanh, RnnRelu, Lstm, Gru };
std::vector<Tensor> rnn_layer(RnnMode mode, const Tensor& input, const Tensor& hx, const Tensor& cx, const Tensor& w_ih,
                              const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, const Tensor& w_hr,
                              const std::vector<int64_t>& batch_sizes, bool reverse);

// --- convolution and pooling (conv.cpp, pool.cpp) ---
// Inputs (N, C, H, W) or unbatched (C, H, W); the 1-d ops take (N, C, L) or (C, L). Size arguments
// hold one value per spatial dim. One node per call.
// conv: weight (OC, C/groups, KH, KW), bias (OC,) or undefined -> (N, OC, OH, OW),
// OH = (H + pad_top + pad_bottom - dilation (KH - 1) - 1) / stride + 1. padding: one value per
// spatial dim, (begin, end) per dim, or 'valid' / 'same' (stride 1; an odd total pads the end more).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups);
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::string& padding, const std::vector<int64_t>& dilation, int64_t groups);
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, int64_t groups);
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
              const std::string& padding, const std::vector<int64_t>& dilation, int64_t groups);
// conv_transpose: the adjoint of conv in its input. weight (C, OC/groups, KH, KW) -> (N, OC, OH, OW),
// OH = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                        const std::vector<int64_t>& padding, const std::vector<int64_t>& output_padding,
                        int64_t groups, const std::vector<int64_t>& dilation);
Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& stride,
                        const std::vector<int64_t>& padding, const std::vector<int64_t>& output_padding,
                        int64_t groups, const std::vector<int64_t>& dilation);
// Pooling; an empty stride means kernel_size. max_pool returns (values, int64 indices h W + w into
// each plane); the indices are an undefined tensor unless return_indices.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size,
                                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, bool ceil_mode, bool return_indices);
// max_pool2d(relu(input)) as one pass and one node where the windows are 2x2 at stride 2 (values
// equal up to the sign of a zero: relu(max) is computed), the two ops elsewhere. nn.Sequential
// runs ReLU followed by MaxPool2d through it.
Tensor relu_max_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                       const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, bool ceil_mode);
std::pair<Tensor, Tensor> max_pool1d(const Tensor& input, const std::vector<int64_t>& kernel_size,
                                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                     const std::vector<int64_t>& dilation, bool ceil_mode, bool return_indices);
Tensor avg_pool2d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                  const std::vector<int64_t>& padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override = {});
Tensor avg_pool1d(const Tensor& input, const std::vector<int64_t>& kernel_size, const std::vector<int64_t>& stride,
                  const std::vector<int64_t>& padding, bool ceil_mode, bool count_include_pad);
// Adaptive pooling: output o of an axis of size n pools [floor(o n / out), ceil((o + 1) n / out)).
Tensor adaptive_avg_pool2d(const Tensor& input, const std::vector<int64_t>& output_size);
Tensor adaptive_avg_pool1d(const Tensor& input, const std::vector<int64_t>& output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& input, const std::vector<int64_t>& output_size,
                                              bool return_indices);
// Resampling of the spatial dims: mode 'nearest', 'linear' (3-d input) or 'bilinear' (4-d); give size
// or scale_factor (the other empty); align_corners for the linear modes.
Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size, const std::vector<double>& scale_factor,
                   const std::string& mode, bool align_corners);
// pad = (left, right) of the last dim, or (left, right, top, bottom) of the last two; mode 'constant'
// (fills value; negative pads crop), 'reflect', 'replicate' or 'circular'.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pad, const std::string& mode = "constant", double value = 0);

}  // namespace lamina
