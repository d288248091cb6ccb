// native/core/bytes.h
//
// Byte containers. Bytes: ordinary data, wiped when freed (it may hold plaintext).
// SecureBytes: key material — move-only, in a locked arena (mlock'd where RLIMIT_MEMLOCK allows,
// excluded from core dumps with MADV_DONTDUMP), wiped with OPENSSL_cleanse when freed. The only
// type that holds a key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hsm {

// An allocator that wipes memory before giving it back, so temporary plaintext does not linger.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept;
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};

void WipeMemory(void* p, std::size_t n) noexcept;

template <typename T>
void WipingAllocator<T>::deallocate(T* p, std::size_t n) noexcept {
  WipeMemory(p, n * sizeof(T));
  std::allocator<T>().deallocate(p, n);
}

using Bytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

struct ByteView {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  ByteView() = default;
  ByteView(const uint8_t* d, std::size_t n) : data(d), size(n) {}
  ByteView(const Bytes& b) : data(b.data()), size(b.size()) {}  // NOLINT: views convert implicitly
  bool empty() const { return size == 0; }
};

inline Bytes ToBytes(ByteView v) { return Bytes(v.data, v.data + v.size); }
inline void Append(Bytes& out, ByteView v) { out.insert(out.end(), v.data, v.data + v.size); }

// How much key memory the process holds, and how much of what is mapped is locked.
struct SecureMemoryStats {
  std::size_t locked_bytes = 0;    // mapped and mlock'd
  std::size_t unlocked_bytes = 0;  // mapped, but RLIMIT_MEMLOCK refused the lock
  std::size_t in_use_bytes = 0;    // held by live SecureBytes
};
SecureMemoryStats SecureMemory();

class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(std::size_t n);
  explicit SecureBytes(ByteView v);
  ~SecureBytes();
  SecureBytes(SecureBytes&& o) noexcept;
  SecureBytes& operator=(SecureBytes&& o) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ByteView view() const { return ByteView(data_, size_); }
  // An explicit, greppable copy for the few places that must duplicate a key.
  SecureBytes CloneSecret() const { return SecureBytes(view()); }

 private:
  void Release() noexcept;
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // the slot or mapping behind data_
};

}  // namespace hsm
