// Storage and Tensor: 64-byte aligned buffers, views that share storage, contiguity, versions.
#include <cstdint>

#include "check.h"
#include "ops/ops.h"

using namespace lamina;

TEST(storage_is_64_byte_aligned) {
  for (size_t nbytes : {size_t(0), size_t(1), size_t(3), size_t(64), size_t(100), size_t(1) << 20}) {
    Storage s(nbytes, Device{});
    CHECK(s.data() != nullptr);
    CHECK_EQ(reinterpret_cast<uintptr_t>(s.data()) % 64, uintptr_t(0));
    CHECK_EQ(s.nbytes(), nbytes);
  }
  Tensor t = Tensor::empty({7, 3}, Dtype::Float64);
  CHECK_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, uintptr_t(0));
}

TEST(storage_wrapping_foreign_memory_runs_release_once) {
  float buffer[4] = {1, 2, 3, 4};
  int released = 0;
  {
    auto s = std::make_shared<Storage>(buffer, sizeof(buffer), Device{}, [&] { ++released; });
    Tensor t = Tensor::view_of(s, {2, 2}, {2, 1}, 0, Dtype::Float32);
    CHECK_EQ(t.data<float>()[3], 4.0f);
  }
  CHECK_EQ(released, 1);
}

TEST(empty_tensor_is_contiguous_with_row_major_strides) {
  Tensor t = Tensor::empty({2, 3, 4});
  CHECK(t.is_contiguous());
  CHECK(t.strides() == Shape({12, 4, 1}));
  CHECK_EQ(t.numel(), 24);
  CHECK_EQ(t.size(-1), 4);
  CHECK_THROWS(t.size(3), IndexError);
}

TEST(transpose_is_a_non_contiguous_view_of_the_same_storage) {
  Tensor x = arange({0, true}, {6, true}, {1, true}, Dtype::Float32);
  Tensor m = view(x, {2, 3});
  Tensor mt = transpose(m, 0, 1);
  CHECK(mt.storage() == x.storage());
  CHECK(mt.shape() == Shape({3, 2}));
  CHECK(mt.strides() == Shape({1, 3}));
  CHECK(!mt.is_contiguous());
  Tensor c = contiguous(mt);
  CHECK(c.is_contiguous());
  CHECK(c.storage() != x.storage());
  const float* p = c.data<float>();  // [[0, 3], [1, 4], [2, 5]]
  CHECK_EQ(p[0], 0.0f);
  CHECK_EQ(p[1], 3.0f);
  CHECK_EQ(p[2], 1.0f);
  CHECK_EQ(p[5], 5.0f);
  CHECK(contiguous(m).same(m));  // already contiguous: the same tensor
}

TEST(narrow_and_select_views_have_offsets) {
  Tensor x = view(arange({0, true}, {12, true}, {1, true}, Dtype::Float32), {3, 4});
  Tensor row = select(x, 0, 1);  // x[1]
  CHECK_EQ(row.offset(), 4);
  CHECK(row.is_contiguous());
  CHECK_EQ(row.data<float>()[0], 4.0f);
  Tensor cols = narrow(x, 1, 1, 2);  // x[:, 1:3]
  CHECK_EQ(cols.offset(), 1);
  CHECK(cols.shape() == Shape({3, 2}));
  CHECK(!cols.is_contiguous());
  CHECK_THROWS(view(cols, {6}), RuntimeError);  // not viewable, as in PyTorch: reshape copies
  Tensor flat = reshape(cols, {6});
  CHECK(flat.storage() != x.storage());
  CHECK_EQ(flat.data<float>()[2], 5.0f);
}

TEST(writes_through_a_view_reach_the_base_and_bump_its_version) {
  Tensor x = zeros({2, 3});
  Tensor row = select(x, 0, 1);
  uint64_t v = x.storage()->version();
  fill_(row, {7.0, false});
  CHECK(x.storage()->version() > v);
  CHECK_EQ(x.data<float>()[3], 7.0f);
  CHECK_EQ(x.data<float>()[2], 0.0f);
}

TEST(expand_gives_zero_strides) {
  Tensor x = ones({3, 1});
  Tensor e = expand(x, {3, 4});
  CHECK(e.strides() == Shape({1, 0}));
  CHECK(e.storage() == x.storage());
  CHECK_THROWS(expand(x, {2, 4}), ValueError);
}
