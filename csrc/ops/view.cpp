// Views: new shape, strides and offset over the same storage, no copy. Each view records one
// node whose backward maps the gradient back to the input's shape: reshape back, permute back,
// sum over expanded dims, or scatter into zeros through the same index (narrow/select/slicing).
#include <algorithm>

#include "ops/dispatch.h"

namespace lamina {

namespace {

Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  Tensor v = Tensor::view_of(x.storage(), std::move(shape), std::move(strides), offset, x.dtype());
  v.impl()->is_view = true;
  return v;
}

struct ReshapeBackward : Node {
  Shape input_shape;
  explicit ReshapeBackward(Shape s) : input_shape(std::move(s)) {}
  const char* name() const override { return "ViewBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override { return {reshape(grads[0], input_shape)}; }
};

struct PermuteBackward : Node {
  std::vector<int64_t> inverse;
  explicit PermuteBackward(std::vector<int64_t> inv) : inverse(std::move(inv)) {}
  const char* name() const override { return "PermuteBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override { return {permute(grads[0], inverse)}; }
};

struct ExpandBackward : Node {
  Shape input_shape;
  explicit ExpandBackward(Shape s) : input_shape(std::move(s)) {}
  const char* name() const override { return "ExpandBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override { return {sum_to(grads[0], input_shape)}; }
};

// dx = zeros(input_shape); dx[items] = g
struct IndexBackward : Node {
  Shape input_shape;
  Dtype dtype;
  std::vector<IndexItem> items;
  IndexBackward(Shape s, Dtype d, std::vector<IndexItem> it) : input_shape(std::move(s)), dtype(d), items(std::move(it)) {}
  const char* name() const override { return "IndexBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor dx = zeros(input_shape, dtype, grads[0].device());
    copy_(index(dx, items), grads[0]);
    return {dx};
  }
};

// A view of x with history: ReshapeBackward-style nodes are built by the caller.
template <typename N, typename... Args>
Tensor record_view(const Tensor& x, Tensor v, Args&&... args) {
  if (any_requires_grad({&x})) set_history(v, make_node<N>({&x}, std::forward<Args>(args)...));
  return v;
}

// Strides for viewing (shape, strides) as new_shape without a copy, if possible (the dims of
// new_shape must split or merge runs of dims that are contiguous with each other).
std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape) {
  Shape out(new_shape.size());
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  if (numel == 0 || shape.empty()) return contiguous_strides(new_shape);
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t chunk_base_stride = strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

// Replaces one -1 in shape by the size that keeps numel; checks that numel matches.
Shape infer_shape(const char* op, Shape shape, int64_t numel) {
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LAMINA_CHECK(infer_at < 0, ValueError, "[", op, "] only one dimension can be -1, got ", shape_str(shape));
      infer_at = int64_t(i);
    } else {
      LAMINA_CHECK(shape[i] >= 0, ValueError, "[", op, "] invalid shape ", shape_str(shape));
      LAMINA_CHECK(!__builtin_mul_overflow(known, shape[i], &known), ValueError, "[", op, "] shape ",
                   shape_str(shape), " has too many elements");
    }
  }
  if (infer_at >= 0) {
    LAMINA_CHECK(known != 0 && numel % known == 0, ValueError, "[", op, "] shape ", shape_str(shape),
                 " is invalid for input of size ", numel);
    shape[infer_at] = numel / known;
  }
  LAMINA_CHECK(checked_numel(shape, op) == numel, ValueError, "[", op, "] shape ", shape_str(shape),
               " is invalid for input of size ", numel);
  return shape;
}

}  // namespace

Tensor view(const Tensor& x, Shape shape) {
  shape = infer_shape("view", std::move(shape), x.numel());
  std::optional<Shape> strides = view_strides(x.shape(), x.strides(), shape);
  LAMINA_CHECK(strides.has_value(), RuntimeError,
               "[view] view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces); use .reshape(...) instead");
  return record_view<ReshapeBackward>(x, make_view(x, shape, *strides, x.offset()), x.shape());
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape("reshape", std::move(shape), x.numel());
  if (view_strides(x.shape(), x.strides(), shape)) return view(x, shape);
  return view(clone(x), shape);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  LAMINA_CHECK(s <= e, ValueError, "[flatten] start_dim (", start_dim, ") must not come after end_dim (", end_dim, ")");
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  Shape shape, strides;
  int64_t only = dim ? wrap_dim(*dim, x.dim(), "squeeze") : -1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    bool drop = x.shape()[d] == 1 && (only < 0 || d == only);
    if (!drop) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
    }
  }
  return record_view<ReshapeBackward>(x, make_view(x, shape, strides, x.offset()), x.shape());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return record_view<ReshapeBackward>(x, make_view(x, shape, strides, x.offset()), x.shape());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  LAMINA_CHECK(int64_t(dims.size()) == x.dim(), ValueError, "[permute] dims must list all ", x.dim(),
               " dimensions of the input, got ", dims.size());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    LAMINA_CHECK(inverse[d] < 0, ValueError, "[permute] dim ", d, " appears more than once in dims");
    inverse[d] = int64_t(i);
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return record_view<PermuteBackward>(x, make_view(x, shape, strides, x.offset()), inverse);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  int64_t n = std::max<int64_t>(x.dim(), 1);
  std::vector<int64_t> dims(size_t(x.dim()));
  for (int64_t i = 0; i < x.dim(); ++i) dims[i] = i;
  int64_t a = wrap_dim(dim0, n, "transpose"), b = wrap_dim(dim1, n, "transpose");
  if (x.dim() == 0) return x;
  std::swap(dims[a], dims[b]);
  return permute(x, dims);
}

Tensor t(const Tensor& x) {
  LAMINA_CHECK(x.dim() <= 2, ValueError, "[t] expects a tensor with <= 2 dimensions, got ", x.dim(),
               "; use transpose(dim0, dim1) or mT");
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  LAMINA_CHECK(int64_t(shape.size()) >= x.dim(), ValueError, "[expand] the number of sizes (", shape.size(),
               ") must be at least the number of dimensions (", x.dim(), ")");
  size_t lead = shape.size() - size_t(x.dim());
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      LAMINA_CHECK(shape[i] >= 0, ValueError, "[expand] size -1 is not allowed in a leading, new dimension");
      out_shape[i] = shape[i];
      continue;
    }
    int64_t cur = x.shape()[i - lead], want = shape[i] == -1 ? cur : shape[i];
    LAMINA_CHECK(cur == want || cur == 1, ValueError, "[expand] cannot expand shape ", shape_str(x.shape()),
                 " to ", shape_str(shape), ": size ", cur, " at dim ", i - lead, " must match or be 1");
    out_shape[i] = want;
    strides[i] = cur == want ? x.strides()[i - lead] : 0;
  }
  if (out_shape == x.shape()) return x;
  checked_numel(out_shape, "expand");
  return record_view<ExpandBackward>(x, make_view(x, out_shape, strides, x.offset()), x.shape());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = wrap_dim(dim, x.dim(), "narrow");
  int64_t size = x.shape()[d];
  if (start < 0) start += size;
  LAMINA_CHECK(start >= 0 && length >= 0 && start <= size && length <= size - start, IndexError,
               "[narrow] start (", start, ") + length (", length, ") exceeds dimension size (", size, ")");
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t idx) {
  std::vector<IndexItem> items(size_t(wrap_dim(dim, x.dim(), "select")) + 1, IndexItem());
  items.back() = IndexItem::at(idx);
  return index(x, items);
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  std::vector<IndexItem> items(size_t(wrap_dim(dim, x.dim(), "slice")) + 1, IndexItem());
  items.back().start = start;
  items.back().stop = stop;
  items.back().step = step;
  return index(x, items);
}

namespace {

// Python's slice.indices(): clamps start and stop into [0, size] for a positive step.
std::pair<int64_t, int64_t> slice_bounds(const IndexItem& it, int64_t size) {
  auto clampi = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v < 0 ? *v + size : *v;
    return std::clamp<int64_t>(i, 0, size);
  };
  return {clampi(it.start, 0), clampi(it.stop, size)};
}

// x[items] for items without tensors: one view, one node.
Tensor basic_index(const Tensor& x, const std::vector<IndexItem>& items) {
  Shape shape, strides;
  int64_t offset = x.offset(), d = 0;
  for (const IndexItem& it : items) {
    switch (it.kind) {
      case IndexItem::Kind::NewAxis:
        shape.push_back(1);
        strides.push_back(d < x.dim() ? x.strides()[d] * x.shape()[d] : 1);
        break;
      case IndexItem::Kind::Integer: {
        int64_t size = x.shape()[d], i = it.integer < 0 ? it.integer + size : it.integer;
        LAMINA_CHECK(i >= 0 && i < size, IndexError, "[index] index ", it.integer, " is out of bounds for dimension ",
                     d, " with size ", size);
        offset += i * x.strides()[d++];
        break;
      }
      case IndexItem::Kind::Slice: {
        LAMINA_CHECK(it.step > 0, ValueError, "[index] slice step must be positive, got ", it.step);
        auto [start, stop] = slice_bounds(it, x.shape()[d]);
        int64_t len = stop > start ? (stop - start + it.step - 1) / it.step : 0;
        offset += start * x.strides()[d];
        shape.push_back(len);
        strides.push_back(x.strides()[d] * it.step);
        ++d;
        break;
      }
      default: break;
    }
  }
  for (; d < x.dim(); ++d) {
    shape.push_back(x.shape()[d]);
    strides.push_back(x.strides()[d]);
  }
  return record_view<IndexBackward>(x, make_view(x, shape, strides, offset), x.shape(), x.dtype(), items);
}

// Expands Ellipsis into full slices and checks that the items fit x's dims.
std::vector<IndexItem> expand_ellipsis(const Tensor& x, const std::vector<IndexItem>& items) {
  int64_t consumed = 0, ellipses = 0;
  for (const IndexItem& it : items) {
    if (it.kind == IndexItem::Kind::Integer || it.kind == IndexItem::Kind::Slice) ++consumed;
    if (it.kind == IndexItem::Kind::Tensor) consumed += it.tensor.dtype() == Dtype::Bool ? it.tensor.dim() : 1;
    if (it.kind == IndexItem::Kind::Ellipsis) ++ellipses;
  }
  LAMINA_CHECK(ellipses <= 1, IndexError, "[index] an index can only have a single ellipsis ('...')");
  LAMINA_CHECK(consumed <= x.dim(), IndexError, "[index] too many indices for tensor of dimension ", x.dim(),
               " (got ", consumed, ")");
  std::vector<IndexItem> out;
  for (const IndexItem& it : items) {
    if (it.kind != IndexItem::Kind::Ellipsis) {
      out.push_back(it);
      continue;
    }
    for (int64_t i = 0; i < x.dim() - consumed; ++i) out.push_back(IndexItem());
  }
  return out;
}

// The entries of an int64 index tensor as a 1-d tensor, negative ones counted from the end
// (x[tensor([-1])] is the last row, as in Python); IndexError when out of [-size, size).
Tensor wrap_indices(const Tensor& idx, int64_t size) {
  Tensor flat = clone(reshape(detach(idx), {-1}));
  int64_t* p = flat.data<int64_t>();
  for (int64_t k = 0; k < flat.numel(); ++k) {
    LAMINA_CHECK(p[k] >= -size && p[k] < size, IndexError, "[index] index ", p[k],
                 " is out of bounds for dimension with size ", size);
    if (p[k] < 0) p[k] += size;
  }
  return flat;
}

// A boolean index covers x's leading dims exactly (PyTorch's rule); IndexError otherwise.
void check_mask(const char* op, const Tensor& x, const Tensor& mask) {
  LAMINA_CHECK(mask.dim() <= x.dim() && std::equal(mask.shape().begin(), mask.shape().end(), x.shape().begin()),
               IndexError, "[", op, "] the shape of the mask ", shape_str(mask.shape()),
               " does not match the leading dims of the indexed tensor of shape ", shape_str(x.shape()));
}

// x viewed as (rows, x.shape[mask.dim():]), and the rows where the mask is true (int64, 1-d).
std::pair<Shape, Tensor> mask_rows(const Tensor& x, const Tensor& mask) {
  Shape rows_shape{mask.numel()};
  rows_shape.insert(rows_shape.end(), x.shape().begin() + mask.dim(), x.shape().end());
  return {rows_shape, reshape(nonzero(reshape(detach(mask), {-1})), {-1})};
}

// x[mask]: the rows of x (over the mask's dims) where the mask is true, stacked.
Tensor mask_index(const Tensor& x, const Tensor& mask) {
  check_mask("index", x, mask);
  auto [rows_shape, positions] = mask_rows(x, mask);
  return index_select(reshape(x, rows_shape), 0, positions);
}

// x[mask] = value: value broadcasts to (count, x.shape[mask.dim():]) and row k goes to the k-th
// true position. A value without the count dim is written with one where() over all of x.
void mask_put_(const Tensor& x, const Tensor& mask, const Tensor& value) {
  check_mask("index_put_", x, mask);
  auto [rows_shape, positions] = mask_rows(x, mask);
  rows_shape[0] = positions.numel();
  LAMINA_CHECK(broadcast_shapes(value.shape(), rows_shape, "index_put_") == rows_shape, ValueError,
               "[index_put_] shape mismatch: value of shape ", shape_str(value.shape()),
               " cannot be broadcast to the indexing result of shape ", shape_str(rows_shape));
  if (value.dim() < int64_t(rows_shape.size())) {
    Shape mask_shape = mask.shape();
    mask_shape.resize(size_t(x.dim()), 1);
    copy_(x, where(expand(reshape(mask, mask_shape), x.shape()), to(value, x.dtype()), x));
    return;
  }
  Tensor rows = expand(value, rows_shape);
  Tensor flat_positions = contiguous(positions);
  const int64_t* p = flat_positions.data<int64_t>();
  for (int64_t k = 0; k < rows_shape[0]; ++k) {
    std::vector<IndexItem> at(size_t(mask.dim()));
    for (int64_t d = mask.dim() - 1, rest = p[k]; d >= 0; rest /= mask.shape()[d], --d)
      at[size_t(d)] = IndexItem::at(rest % mask.shape()[d]);
    copy_(basic_index(x, at), select(rows, 0, k));
  }
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<IndexItem>& raw_items) {
  std::vector<IndexItem> items = expand_ellipsis(x, raw_items);
  auto tensor_at = std::find_if(items.begin(), items.end(), [](const IndexItem& it) { return it.kind == IndexItem::Kind::Tensor; });
  if (tensor_at == items.end()) return basic_index(x, items);

  LAMINA_CHECK(std::count_if(items.begin(), items.end(), [](const IndexItem& it) { return it.kind == IndexItem::Kind::Tensor; }) == 1,
               IndexError, "[index] lamina supports one index tensor per indexing expression");
  Tensor idx = tensor_at->tensor;
  if (idx.dtype() == Dtype::Bool) {
    LAMINA_CHECK(items.size() == 1, IndexError, "[index] a boolean mask must be the only index");
    return mask_index(x, idx);
  }
  LAMINA_CHECK(idx.dtype() == Dtype::Int64, TypeError, "[index] index tensors must be int64 or bool, got ",
               dtype_name(idx.dtype()));
  // Index the other items first with the tensor's dim kept whole, then select along it.
  int64_t result_dim = 0;
  for (auto it = items.begin(); it != tensor_at; ++it)
    if (it->kind != IndexItem::Kind::Integer) ++result_dim;
  *tensor_at = IndexItem();
  Tensor base = basic_index(x, items);
  Tensor picked = index_select(base, result_dim, wrap_indices(idx, base.shape()[result_dim]));
  Shape shape(base.shape().begin(), base.shape().begin() + result_dim);
  shape.insert(shape.end(), idx.shape().begin(), idx.shape().end());
  shape.insert(shape.end(), base.shape().begin() + result_dim + 1, base.shape().end());
  return reshape(picked, shape);
}

void index_put_(const Tensor& x, const std::vector<IndexItem>& raw_items, const Tensor& value) {
  check_inplace("index_put_", x);
  LAMINA_CHECK(!(GradMode::is_enabled() && (x.requires_grad() || value.requires_grad())), RuntimeError,
               "[index_put_] assignment into a tensor (x[...] = v) is not differentiable in lamina; "
               "do it inside `with lamina.no_grad():` or build the result with lamina.where / lamina.cat");
  std::vector<IndexItem> items = expand_ellipsis(x, raw_items);
  for (const IndexItem& it : items) {
    if (it.kind != IndexItem::Kind::Tensor) continue;
    LAMINA_CHECK(items.size() == 1 && it.tensor.dtype() == Dtype::Bool, IndexError,
                 "[index_put_] assignment through an index tensor supports a single boolean mask (x[mask] = v)");
    return mask_put_(x, it.tensor, value);
  }
  Tensor target = basic_index(x, items);
  LAMINA_CHECK(broadcast_shapes(value.shape(), target.shape(), "index_put_") == target.shape(), ValueError,
               "[index_put_] shape mismatch: value of shape ", shape_str(value.shape()),
               " cannot be broadcast to the indexing result of shape ", shape_str(target.shape()));
  copy_(target, value);
}

}  // namespace lamina
