// native/core/bytes.cc
// SecureBytes: anonymous page mappings, mlock'd best-effort (RLIMIT_MEMLOCK may refuse it),
// MADV_DONTDUMP so key material never lands in a core file, OPENSSL_cleanse on release.
#include "bytes.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace hsm {

void WipeMemory(void* p, std::size_t n) noexcept {
  if (p != nullptr && n > 0) OPENSSL_cleanse(p, n);
}

static std::size_t PageRound(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ((n + page - 1) / page) * page;
}

SecureBytes::SecureBytes(std::size_t n) : size_(n) {
  if (n == 0) return;
  mapped_ = PageRound(n);
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
  madvise(p, mapped_, MADV_DONTDUMP);
#endif
  (void)mlock(p, mapped_);  // best effort: an unprivileged process may have a tiny lock limit
  data_ = static_cast<uint8_t*>(p);
}

SecureBytes::SecureBytes(ByteView v) : SecureBytes(v.size) {
  if (v.size > 0) std::memcpy(data_, v.data, v.size);
}

SecureBytes::~SecureBytes() { Release(); }

SecureBytes::SecureBytes(SecureBytes&& o) noexcept
    : data_(o.data_), size_(o.size_), mapped_(o.mapped_) {
  o.data_ = nullptr;
  o.size_ = o.mapped_ = 0;
}

SecureBytes& SecureBytes::operator=(SecureBytes&& o) noexcept {
  if (this != &o) {
    Release();
    data_ = o.data_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    o.data_ = nullptr;
    o.size_ = o.mapped_ = 0;
  }
  return *this;
}

void SecureBytes::Release() noexcept {
  if (data_ == nullptr) return;
  OPENSSL_cleanse(data_, mapped_);
  munlock(data_, mapped_);
  munmap(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
}

}  // namespace hsm
