// Copies and conversions: contiguous, clone, to(dtype), to(device), detach, copy_, fill_.
#include "ops/dispatch.h"

namespace lamina {

namespace {

struct CloneBackward : Node {
  const char* name() const override { return "CloneBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override { return {std::move(grads[0])}; }
};

// The gradient goes back in the input's dtype, or on the input's device.
struct ToCopyBackward : Node {
  Dtype input_dtype;
  Device input_device;
  ToCopyBackward(Dtype d, Device dev) : input_dtype(d), input_device(dev) {}
  const char* name() const override { return "ToCopyBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    return {to(to(grads[0], input_dtype), input_device)};
  }
};

}  // namespace

Tensor clone(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device().is_cuda()) cuda::copy_(out, contiguous(detach(x)));
  else cpu::copy_(out, x);
  if (any_requires_grad({&x})) set_history(out, make_node<CloneBackward>({&x}));
  return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor to(const Tensor& x, Dtype dtype) {
  if (x.dtype() == dtype) return x;
  require_cpu("to", x);
  Tensor out = Tensor::empty(x.shape(), dtype);
  cpu::copy_(out, x);
  if (is_floating(dtype) && is_floating(x.dtype()) && any_requires_grad({&x}))
    set_history(out, make_node<ToCopyBackward>({&x}, x.dtype(), x.device()));
  return out;
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor src = contiguous(detach(x));
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  cuda::copy_(out, src);  // every copy that crosses devices involves CUDA
  if (is_floating(x.dtype()) && any_requires_grad({&x}))
    set_history(out, make_node<ToCopyBackward>({&x}, x.dtype(), x.device()));
  return out;
}

Tensor detach(const Tensor& x) { return Tensor::view_of(x.storage(), x.shape(), x.strides(), x.offset(), x.dtype()); }

void copy_(const Tensor& dst, const Tensor& src) {
  check_inplace("copy_", dst);
  LAMINA_CHECK(!(GradMode::is_enabled() && src.requires_grad()), RuntimeError,
               "[copy_] copying a tensor that requires grad into another tensor is not differentiable "
               "in lamina; detach() the source or use lamina.no_grad()");
  check_same_device("copy_", dst, src);
  LAMINA_CHECK(broadcast_shapes(src.shape(), dst.shape(), "copy_") == dst.shape(), ValueError, "[copy_] src of shape ",
               shape_str(src.shape()), " cannot be broadcast to the destination shape ", shape_str(dst.shape()));
  // A source sharing dst's memory in another layout (x.copy_(x.t()), x[1:] = x[:-1]) is read
  // from a copy, so that no element is overwritten before it is read.
  bool aliased = src.storage() == dst.storage() && !(src.offset() == dst.offset() && src.strides() == dst.strides());
  Tensor source = expand(aliased ? clone(detach(src)) : detach(src), dst.shape());
  LAMINA_DISPATCH_DEVICE(dst.device(), copy_, dst, source);
  dst.bump_version();
}

void fill_(const Tensor& dst, Scalar value) {
  check_inplace("fill_", dst);
  LAMINA_DISPATCH_DEVICE(dst.device(), fill_, dst, value);
  dst.bump_version();
}

void set_data(const Tensor& self, const Tensor& src) {
  check_defined("set_data", src, "data");
  LAMINA_CHECK(!self.requires_grad() || is_floating(src.dtype()), TypeError,
               "[set_data] a tensor that requires grad needs floating-point data, got ", dtype_name(src.dtype()));
  TensorImpl* impl = self.impl();
  impl->storage = src.storage();
  impl->shape = src.shape();
  impl->strides = src.strides();
  impl->offset = src.offset();
  impl->numel = src.numel();
  impl->dtype = src.dtype();
  impl->is_view = true;
}

void zero_(const Tensor& dst) { fill_(dst, {0, true}); }

}  // namespace lamina
