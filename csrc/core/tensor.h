// Tensor: a cheap handle (shared_ptr) to a TensorImpl, which is a strided view of a Storage
// plus its autograd metadata. Copying a Tensor shares the same impl, as Python references do.
// Views share the storage and differ in shape, strides (in elements) and offset.
#pragma once
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace lamina {

class Node;
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  int64_t numel = 0;
  Dtype dtype = Dtype::Float32;
  bool is_view = false;  // shares its storage with the tensor it was made from

  // autograd
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;        // null for leaves
  uint32_t output_nr = 0;               // which output of grad_fn this tensor is
  std::weak_ptr<Node> grad_accumulator; // leaves: the node that accumulates into .grad
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A new contiguous tensor with uninitialised storage.
  static Tensor empty(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = {});
  // A view of `storage` (no copy).
  static Tensor view_of(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                        int64_t offset, Dtype dtype);

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return int64_t(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // d may be negative
  int64_t numel() const { return impl_->numel; }
  Dtype dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  bool is_contiguous() const;

  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset * element_size(dtype());
  }
  template <typename T> T* data() const { return static_cast<T*>(raw_data()); }

  // autograd state
  bool requires_grad() const { return impl_->requires_grad; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  Tensor grad() const { return Tensor(impl_->grad); }

  // Marks an in-place write to this tensor's storage (autograd checks saved versions).
  void bump_version() const { impl_->storage->bump_version(); }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace lamina
