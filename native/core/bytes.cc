// native/core/bytes.cc
// SecureBytes: key material in a locked arena. Small buffers (up to 4 KiB) are slots of 64 KiB
// chunks mapped once, mlock'd and excluded from core dumps (MADV_DONTDUMP), so thousands of keys fit
// in RLIMIT_MEMLOCK instead of one page each; larger buffers get pages of their own. Everything is
// wiped when released. When the lock limit refuses a chunk it is still used
// (excluded from dumps, not locked), counted, and one warning goes to stderr.
#include "bytes.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace hsm {

// explicit_bzero is memset that the compiler may not drop; OPENSSL_cleanse does the same a byte
// or word at a time, which made wiping a 1 MiB buffer cost as much as encrypting it.
void WipeMemory(void* p, std::size_t n) noexcept {
  if (p != nullptr && n > 0) explicit_bzero(p, n);
}

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMinSlot = 32, kMaxSlot = 4096;
constexpr std::size_t kClasses = 8;  // 32, 64, ..., 4096

std::size_t PageRound(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return ((n + page - 1) / page) * page;
}

std::size_t ClassOf(std::size_t n, std::size_t* slot) {
  std::size_t c = 0, s = kMinSlot;
  while (s < n) s <<= 1, c++;
  *slot = s;
  return c;
}

class Arena {
 public:
  void* Take(std::size_t n, std::size_t* capacity) {
    std::lock_guard lock(mu_);
    if (n > kMaxSlot) {
      *capacity = PageRound(n);
      void* p = Map(*capacity);
      stats_.in_use_bytes += *capacity;
      return p;
    }
    std::size_t slot;
    std::size_t c = ClassOf(n, &slot);
    *capacity = slot;
    auto& list = free_[c];
    if (list.empty()) {
      auto* chunk = static_cast<uint8_t*>(Map(kChunk));
      for (std::size_t at = kChunk; at >= slot; at -= slot) list.push_back(chunk + at - slot);
    }
    void* p = list.back();
    list.pop_back();
    stats_.in_use_bytes += slot;
    return p;
  }

  void Give(void* p, std::size_t capacity) noexcept {
    WipeMemory(p, capacity);
    std::lock_guard lock(mu_);
    if (capacity > kMaxSlot) {
      bool locked = munlock(p, capacity) == 0;
      munmap(p, capacity);
      (locked ? stats_.locked_bytes : stats_.unlocked_bytes) -= capacity;
      stats_.in_use_bytes -= capacity;
      return;
    }
    std::size_t slot;
    free_[ClassOf(capacity, &slot)].push_back(p);
    stats_.in_use_bytes -= slot;
  }

  SecureMemoryStats Stats() {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  void* Map(std::size_t n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
    madvise(p, n, MADV_DONTDUMP);
#endif
    if (mlock(p, n) == 0) {
      stats_.locked_bytes += n;
    } else {
      stats_.unlocked_bytes += n;
      WarnOnce();
    }
    return p;
  }

  void WarnOnce() {
    if (warned_) return;
    warned_ = true;
    struct rlimit rl {};
    getrlimit(RLIMIT_MEMLOCK, &rl);
    fprintf(stderr,
            "sealhsm: key memory could not be locked (RLIMIT_MEMLOCK is %llu bytes, %zu locked so far); keys stay out of core "
            "dumps but may be swapped. Raise the limit (ulimit -l, or LimitMEMLOCK= for a systemd service).\n",
            static_cast<unsigned long long>(rl.rlim_cur), stats_.locked_bytes);
  }

  std::mutex mu_;
  std::array<std::vector<void*>, kClasses> free_;
  SecureMemoryStats stats_;
  bool warned_ = false;
};

Arena& TheArena() {
  static Arena* arena = new Arena();  // never destroyed: key buffers may outlive static teardown
  return *arena;
}

}  // namespace

SecureMemoryStats SecureMemory() { return TheArena().Stats(); }

SecureBytes::SecureBytes(std::size_t n) : size_(n) {
  if (n == 0) return;
  data_ = static_cast<uint8_t*>(TheArena().Take(n, &mapped_));
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
  TheArena().Give(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
}

}  // namespace hsm
