// native/core/store/generation_mark.h
//
// The highest generation a token has acknowledged, kept outside its database (DESIGN "The sealed
// slot"): `generation` beside token.db and, when the admin names one, a mirror on another mount.
// Each file holds two slots, written alternately so a torn write leaves the other; each slot is the
// generation and an HMAC under the token's state key, so nobody without a key can raise or forge
// it (an old copy of the file can still be put back: that is what the mirror is for). A process
// that opens the token refuses a database older than the mark until an admin accepts it. Knows
// nothing of SQLite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../bytes.h"

namespace hsm {

class GenerationMark {
 public:
  // Opens (creating with mode 0600) the mark files; CKR_DEVICE_ERROR naming the one that fails.
  GenerationMark(const std::string& path, const std::string& mirror);
  ~GenerationMark();
  GenerationMark(const GenerationMark&) = delete;
  GenerationMark& operator=(const GenerationMark&) = delete;

  // The highest generation recorded in any file whose MAC verifies; 0 when none is.
  int64_t Highest(ByteView state_key, ByteView token_id) const;
  // Records `gen` (after its commit) in every file whose recorded generation is lower.
  void Advance(ByteView state_key, ByteView token_id, int64_t gen);
  // Records exactly `gen` in every file, lower or not: an admin accepting a rollback.
  void Reset(ByteView state_key, ByteView token_id, int64_t gen);

 private:
  struct File {
    std::string path;
    int fd = -1;
  };
  int64_t Read(const File& f, ByteView state_key, ByteView token_id) const;
  void Write(const File& f, ByteView state_key, ByteView token_id, int64_t gen);
  std::vector<File> files_;
};

}  // namespace hsm
