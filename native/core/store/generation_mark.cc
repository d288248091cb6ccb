// native/core/store/generation_mark.cc
#include "generation_mark.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../error.h"
#include "state_mac.h"

namespace hsm {

namespace {

constexpr std::size_t kSlot = 64;  // two slots: [gen: 8 bytes, little-endian][mac: 32 bytes][zeros]

Bytes SlotMac(ByteView key, ByteView token_id, int64_t gen) {
  statemac::Message m("sealhsm generation mark v1");
  m.Add(token_id).Add(static_cast<uint64_t>(gen));
  return m.Sign(key);
}

}  // namespace

GenerationMark::GenerationMark(const std::string& path, const std::string& mirror) {
  for (const std::string& p : {path, mirror}) {
    if (p.empty()) continue;
    int fd = open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      int err = errno;
      for (File& f : files_) close(f.fd);
      Fail(CKR_DEVICE_ERROR, "cannot open the generation mark " + p + ": " + std::strerror(err));
    }
    files_.push_back({p, fd});
  }
}

GenerationMark::~GenerationMark() {
  for (File& f : files_) close(f.fd);
}

int64_t GenerationMark::Read(const File& f, ByteView key, ByteView token_id) const {
  uint8_t buf[2 * kSlot] = {};
  ssize_t n = pread(f.fd, buf, sizeof buf, 0);
  int64_t best = 0;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (n < static_cast<ssize_t>((slot + 1) * kSlot)) break;
    const uint8_t* s = buf + slot * kSlot;
    uint64_t g = 0;
    for (int i = 7; i >= 0; --i) g = (g << 8) | s[i];
    int64_t gen = static_cast<int64_t>(g);
    Bytes want = SlotMac(key, token_id, gen);
    if (gen > best && CRYPTO_memcmp(want.data(), s + 8, want.size()) == 0) best = gen;
  }
  return best;
}

void GenerationMark::Write(const File& f, ByteView key, ByteView token_id, int64_t gen) {
  uint8_t s[kSlot] = {};
  for (int i = 0; i < 8; ++i) s[i] = static_cast<uint8_t>(static_cast<uint64_t>(gen) >> (8 * i));
  Bytes mac = SlotMac(key, token_id, gen);
  std::memcpy(s + 8, mac.data(), mac.size());
  off_t at = static_cast<off_t>((static_cast<uint64_t>(gen) & 1) * kSlot);
  if (pwrite(f.fd, s, sizeof s, at) != static_cast<ssize_t>(sizeof s)) {
    Fail(CKR_DEVICE_ERROR, "the change was committed, but its generation could not be recorded in " + f.path + ": " + std::strerror(errno));
  }
}

int64_t GenerationMark::Highest(ByteView key, ByteView token_id) const {
  int64_t best = 0;
  for (const File& f : files_) best = std::max(best, Read(f, key, token_id));
  return best;
}

void GenerationMark::Advance(ByteView key, ByteView token_id, int64_t gen) {
  for (const File& f : files_) {
    if (Read(f, key, token_id) < gen) Write(f, key, token_id, gen);
  }
}

void GenerationMark::Reset(ByteView key, ByteView token_id, int64_t gen) {
  for (const File& f : files_) {
    // Both slots: the other one may hold the generation being given up.
    Write(f, key, token_id, gen);
    uint8_t zeros[kSlot] = {};
    off_t other = static_cast<off_t>(((static_cast<uint64_t>(gen) & 1) ^ 1) * kSlot);
    if (pwrite(f.fd, zeros, sizeof zeros, other) != static_cast<ssize_t>(sizeof zeros)) {
      Fail(CKR_DEVICE_ERROR, "cannot write the generation mark " + f.path + ": " + std::strerror(errno));
    }
    (void)fsync(f.fd);
  }
}

}  // namespace hsm
