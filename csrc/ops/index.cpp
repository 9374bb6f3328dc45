// Joining, splitting and indexing: cat, stack, split, chunk (views), index_select, gather,
// masked_select, nonzero. Indices are validated before any kernel runs.
#include <numeric>

#include "ops/dispatch.h"

namespace lamina {

namespace {

// IndexError unless every value of the int64 tensor idx lies in [0, size).
void check_index_range(const char* op, const Tensor& idx, int64_t size) {
  Tensor c = contiguous(idx);
  const int64_t* p = c.data<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i)
    LAMINA_CHECK(p[i] >= 0 && p[i] < size, IndexError, "[", op, "] index ", p[i], " is out of bounds for dimension with size ", size);
}

void check_index_tensor(const char* op, const Tensor& idx) {
  check_defined(op, idx, "index");
  LAMINA_CHECK(idx.dtype() == Dtype::Int64, TypeError, "[", op, "] index must be an int64 tensor, got ", dtype_name(idx.dtype()));
}

// The gradient of each input of cat: its slice of the output gradient, in its dtype.
struct CatBackward : Node {
  int64_t dim;
  std::vector<int64_t> sizes;
  std::vector<Dtype> dtypes;
  CatBackward(int64_t d, std::vector<int64_t> s, std::vector<Dtype> t) : dim(d), sizes(std::move(s)), dtypes(std::move(t)) {}
  const char* name() const override { return "CatBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    std::vector<Tensor> out(sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (needs_input_grad(i)) out[i] = to(narrow(grads[0], dim, start, sizes[i]), dtypes[i]);
      start += sizes[i];
    }
    return out;
  }
};

struct IndexSelectBackward : Node {
  Shape x_shape;
  int64_t dim;
  IndexSelectBackward(Shape s, int64_t d) : x_shape(std::move(s)), dim(d) {}
  const char* name() const override { return "IndexSelectBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = contiguous(grads[0]), idx = saved(0);
    Tensor dx = zeros(x_shape, g.dtype());
    DimSplit s = split_at_dim(x_shape, dim);
    dispatch_float(g.dtype(), name(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      cpu::index_select_backward<T>(dx.data<T>(), g.data<T>(), idx.data<int64_t>(), s.outer, s.size, idx.numel(), s.inner);
    });
    return {dx};
  }
};

struct GatherBackward : Node {
  Shape x_shape;
  int64_t dim;
  GatherBackward(Shape s, int64_t d) : x_shape(std::move(s)), dim(d) {}
  const char* name() const override { return "GatherBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dx = zeros(x_shape, grads[0].dtype());
    cpu::scatter_add(dx, dim, saved(0), contiguous(grads[0]));
    return {dx};
  }
};

// Flat positions (int64, 1-d) where the bool tensor mask is true.
Tensor true_positions(const Tensor& mask) {
  Tensor m = contiguous(mask);
  const bool* p = m.data<bool>();
  int64_t count = 0;
  for (int64_t i = 0; i < m.numel(); ++i) count += p[i];
  Tensor out = Tensor::empty({count}, Dtype::Int64);
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0, k = 0; i < m.numel(); ++i)
    if (p[i]) o[k++] = i;
  return out;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  LAMINA_CHECK(!tensors.empty(), ValueError, "[cat] expected a non-empty list of tensors");
  for (const Tensor& t : tensors) check_defined("cat", t, "tensors");
  const Tensor& first = tensors[0];
  require_cpu("cat", first);
  int64_t d = wrap_dim(dim, first.dim(), "cat");
  LAMINA_CHECK(first.dim() > 0, ValueError, "[cat] zero-dimensional tensors cannot be concatenated");
  Dtype dt = first.dtype();
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_same_device("cat", first, t);
    LAMINA_CHECK(t.dim() == first.dim(), ValueError, "[cat] tensors must have the same number of dimensions: tensor 0 has ",
                 first.dim(), ", tensor ", i, " has ", t.dim());
    for (int64_t k = 0; k < t.dim(); ++k)
      LAMINA_CHECK(k == d || t.shape()[k] == first.shape()[k], ValueError, "[cat] sizes of tensors must match except in dim ",
                   d, ": tensor 0 has shape ", shape_str(first.shape()), ", tensor ", i, " has shape ", shape_str(t.shape()));
    shape[d] += t.shape()[d];
    dt = promote_types(dt, t.dtype());
  }
  Tensor out = Tensor::empty(shape, dt);
  DimSplit s = split_at_dim(shape, d);
  std::vector<Tensor> inputs;
  std::vector<const char*> ptrs;
  std::vector<int64_t> row_bytes, sizes;
  std::vector<Dtype> dtypes;
  for (const Tensor& t : tensors) {
    inputs.push_back(contiguous(detach(to(detach(t), dt))));
    ptrs.push_back(static_cast<const char*>(inputs.back().raw_data()));
    row_bytes.push_back(t.shape()[d] * s.inner * int64_t(element_size(dt)));
    sizes.push_back(t.shape()[d]);
    dtypes.push_back(t.dtype());
  }
  cpu::cat(static_cast<char*>(out.raw_data()), ptrs, row_bytes, s.outer);
  if (GradMode::is_enabled() && std::any_of(tensors.begin(), tensors.end(), [](const Tensor& t) { return t.requires_grad(); })) {
    auto node = std::make_shared<CatBackward>(d, sizes, dtypes);
    for (const Tensor& t : tensors) node->next_edges.push_back(gradient_edge(t));
    set_history(out, std::move(node));
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  LAMINA_CHECK(!tensors.empty(), ValueError, "[stack] expected a non-empty list of tensors");
  for (const Tensor& t : tensors) check_defined("stack", t, "tensors");
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    LAMINA_CHECK(tensors[i].shape() == tensors[0].shape(), ValueError, "[stack] expects each tensor to be equal size, but got ",
                 shape_str(tensors[0].shape()), " at entry 0 and ", shape_str(tensors[i].shape()), " at entry ", i);
    parts.push_back(unsqueeze(tensors[i], d));
  }
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_defined("split", x, "input");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    LAMINA_CHECK(s >= 0, ValueError, "[split] split sizes must be non-negative, got ", s);
    total += s;
  }
  LAMINA_CHECK(total == x.shape()[d], ValueError, "[split] split sizes must sum to the size of dim ", d, " (",
               x.shape()[d], "), got ", total);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  check_defined("split", x, "input");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t size = x.shape()[d];
  LAMINA_CHECK(split_size > 0 || (split_size == 0 && size == 0), ValueError, "[split] split_size must be positive, got ",
               split_size);
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < size; start += split_size) sizes.push_back(std::min(split_size, size - start));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  check_defined("chunk", x, "input");
  LAMINA_CHECK(chunks > 0, ValueError, "[chunk] chunks must be positive, got ", chunks);
  int64_t d = wrap_dim(dim, x.dim(), "chunk");
  int64_t size = x.shape()[d];
  if (size == 0) return split(x, std::vector<int64_t>(size_t(chunks), 0), d);  // `chunks` empty pieces, as PyTorch
  return split(x, (size + chunks - 1) / chunks, d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("index_select", x, "input");
  check_index_tensor("index_select", index);
  require_cpu("index_select", x);
  LAMINA_CHECK(index.dim() <= 1, ValueError, "[index_select] index must be 0-d or 1-d, got shape ", shape_str(index.shape()));
  int64_t d = wrap_dim(dim, x.dim(), "index_select");
  Tensor xc = contiguous(x), idx = contiguous(index);
  Shape shape = xc.shape();
  DimSplit s = x.dim() == 0 ? DimSplit{} : split_at_dim(shape, d);
  LAMINA_CHECK(x.dim() > 0 || idx.numel() == 1, ValueError,
               "[index_select] index of a 0-d input must have exactly one value, got ", idx.numel());
  check_index_range("index_select", idx, s.size);
  if (x.dim() > 0) shape[d] = idx.numel();
  Tensor out = Tensor::empty(shape, x.dtype());
  dispatch_all(x.dtype(), "index_select", [&](auto tag) {
    using T = typename decltype(tag)::type;
    cpu::index_select<T>(out.data<T>(), xc.data<T>(), idx.data<int64_t>(), s.outer, s.size, idx.numel(), s.inner);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node<IndexSelectBackward>({&x}, x.shape(), x.dim() == 0 ? 0 : d);
    node->save({idx});
    set_history(out, std::move(node));
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("gather", x, "input");
  check_index_tensor("gather", index);
  require_cpu("gather", x);
  int64_t d = wrap_dim(dim, x.dim(), "gather");
  LAMINA_CHECK(index.dim() == x.dim(), ValueError, "[gather] index must have as many dims as input (", x.dim(), "), got shape ",
               shape_str(index.shape()));
  for (int64_t k = 0; k < x.dim(); ++k)
    LAMINA_CHECK(k == d || index.shape()[k] <= x.shape()[k], ValueError, "[gather] index shape ", shape_str(index.shape()),
                 " is larger than input shape ", shape_str(x.shape()), " at dim ", k);
  // The kernels index a dim: a 0-d input is gathered as a 1-element vector.
  if (x.dim() == 0) return reshape(gather(reshape(x, {1}), 0, reshape(index, {1})), {});
  Tensor idx = contiguous(index);
  check_index_range("gather", idx, x.shape()[d]);
  Tensor out = Tensor::empty(idx.shape(), x.dtype());
  if (out.numel() > 0) cpu::gather(out, x, d, idx);
  if (any_requires_grad({&x})) {
    auto node = make_node<GatherBackward>({&x}, x.shape(), d);
    node->save({idx});
    set_history(out, std::move(node));
  }
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  check_defined("masked_select", x, "input");
  check_defined("masked_select", mask, "mask");
  LAMINA_CHECK(mask.dtype() == Dtype::Bool, TypeError, "[masked_select] mask must be a bool tensor, got ", dtype_name(mask.dtype()));
  // x and mask broadcast together (right-aligned, as PyTorch); the result is 1-d.
  Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  return index_select(reshape(expand(x, shape), {checked_numel(shape, "masked_select")}), 0,
                      true_positions(expand(mask, shape)));
}

Tensor nonzero(const Tensor& x) {
  check_defined("nonzero", x, "input");
  require_cpu("nonzero", x);
  Tensor positions = true_positions(compare(CompareOp::Ne, x, scalar_tensor({0, true}, x.dtype())));
  Tensor out = Tensor::empty({positions.numel(), x.dim()}, Dtype::Int64);
  const int64_t* p = positions.data<int64_t>();
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0; i < positions.numel(); ++i) {
    int64_t rest = p[i];
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      o[i * x.dim() + d] = rest % x.shape()[d];
      rest /= x.shape()[d];
    }
  }
  return out;
}

}  // namespace lamina
